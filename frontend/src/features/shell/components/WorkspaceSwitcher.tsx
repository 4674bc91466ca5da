import { Button, Group, Menu, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import IconCheck from '@tabler/icons-react/icons/IconCheck';
import IconPlus from '@tabler/icons-react/icons/IconPlus';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import type { Me } from '@/api/types';
import { errorMessage } from '@/components/ErrorState';
import { useCreateWorkspace, useSwitchWorkspace } from '@/features/auth/api';
import { mapServerErrors } from '@/lib/form-errors';

/**
 * The user's workspaces as items of the user menu. Switching moves the session and
 * drops every cached answer of the old workspace, then opens the dashboard.
 */
export function WorkspaceItems({ me, onCreate }: { me: Me; onCreate: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const switchTo = useSwitchWorkspace();
  return (
    <>
      <Menu.Label>{t('workspaces.title')}</Menu.Label>
      {me.workspaces.map((w) => {
        const current = w.id === me.workspace.id;
        return (
          <Menu.Item
            key={w.id}
            data-testid="workspace-item"
            leftSection={current ? <IconCheck size={16} /> : <span style={{ display: 'inline-block', width: 16 }} />}
            disabled={switchTo.isPending}
            onClick={() => {
              if (current) return;
              switchTo.mutate(w.id, {
                onSuccess: (next) => {
                  navigate('/');
                  notifications.show({ color: 'teal', message: t('workspaces.switched', { name: next.workspace.name }) });
                },
                onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
              });
            }}
          >
            <Group justify="space-between" gap="md" wrap="nowrap">
              <Text size="sm" fw={current ? 600 : 400} truncate maw={180}>
                {w.name}
              </Text>
              <Text size="xs" c="dimmed">
                {t(`roles.${w.role}`, { defaultValue: w.role })}
              </Text>
            </Group>
          </Menu.Item>
        );
      })}
      <Menu.Item leftSection={<IconPlus size={16} />} onClick={onCreate}>
        {t('workspaces.create')}
      </Menu.Item>
    </>
  );
}

export function CreateWorkspaceModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const create = useCreateWorkspace();
  const form = useForm({
    initialValues: { name: '' },
    validate: { name: (v) => (v.trim() ? null : t('common.required')) },
  });
  const close = () => {
    onClose();
    form.reset();
    create.reset();
  };
  return (
    <Modal opened={opened} onClose={close} title={t('workspaces.create')}>
      <form
        onSubmit={form.onSubmit(({ name }) =>
          create.mutate(name.trim(), {
            onSuccess: (me) => {
              close();
              navigate('/');
              notifications.show({ color: 'teal', message: t('workspaces.created', { name: me.workspace.name }) });
            },
            onError: (e) => {
              const { fields, rest } = mapServerErrors(e, ['name']);
              form.setErrors(fields);
              if (rest.length) notifications.show({ color: 'red', message: rest.join('\n') });
            },
          }),
        )}
      >
        <Stack>
          <Text size="sm" c="dimmed">
            {t('workspaces.createHelp')}
          </Text>
          <TextInput label={t('workspaces.name')} required data-autofocus {...form.getInputProps('name')} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={create.isPending}>
              {t('workspaces.createSubmit')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
