import { Alert, Button, Card, Group, Modal, PasswordInput, Select, Skeleton, Stack, Table, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import IconInfoCircle from '@tabler/icons-react/icons/IconInfoCircle';
import IconUserPlus from '@tabler/icons-react/icons/IconUserPlus';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Role, WorkspaceUser } from '@/api/types';
import { ErrorState, errorMessage } from '@/components/ErrorState';
import { useMe } from '@/features/auth/api';
import { mapServerErrors } from '@/lib/form-errors';
import { useChangeRole, useInviteUser, useRemoveUser, useUsers } from '../api';

const ROLES = ['owner', 'editor', 'viewer'] as const satisfies readonly Role[];

export function UsersPanel({ isOwner }: { isOwner: boolean }) {
  const { t } = useTranslation();
  const me = useMe();
  const users = useUsers(isOwner);
  const invite = useInviteUser();
  const changeRole = useChangeRole();
  const remove = useRemoveUser();
  const [inviting, setInviting] = useState(false);
  const roleData = ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }));
  const form = useForm({
    initialValues: { email: '', name: '', password: '', role: 'editor' as Role },
    validate: {
      email: (v) => (/^\S+@\S+$/.test(v) ? null : t('login.emailInvalid')),
      password: (v) => (v.length >= 8 ? null : t('users.passwordShort')),
    },
  });

  if (!isOwner) {
    return (
      <Alert icon={<IconInfoCircle size={18} />} color="blue">
        {t('users.ownerOnly')}
      </Alert>
    );
  }

  const confirmRemove = (u: WorkspaceUser) =>
    modals.openConfirmModal({
      title: t('users.removeTitle'),
      children: <Text size="sm">{t('users.removeText', { email: u.email })}</Text>,
      labels: { confirm: t('users.remove'), cancel: t('common.cancel') },
      confirmProps: { color: 'red' },
      onConfirm: () => remove.mutate(u.id, { onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }) }),
    });

  return (
    <Stack>
      <Group justify="space-between">
        <Text c="dimmed" size="sm" maw={640}>
          {t('users.description')}
        </Text>
        <Button leftSection={<IconUserPlus size={16} />} onClick={() => setInviting(true)}>
          {t('users.invite')}
        </Button>
      </Group>
      {users.isError && <ErrorState error={users.error} onRetry={() => void users.refetch()} />}
      {users.isPending && <Skeleton h={120} />}
      {!!users.data?.length && (
        <Card padding={0}>
          <Table.ScrollContainer minWidth={560}>
            <Table verticalSpacing="sm" horizontalSpacing="md">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('users.email')}</Table.Th>
                  <Table.Th>{t('users.role')}</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {users.data.map((u) => {
                  const self = u.id === me.data?.user.id;
                  return (
                    <Table.Tr key={u.id}>
                      <Table.Td>
                        <Text fw={500} size="sm">
                          {u.email}
                        </Text>
                        {u.name && (
                          <Text size="xs" c="dimmed">
                            {u.name}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td w={180}>
                        <Select
                          size="xs"
                          aria-label={t('users.role')}
                          data={roleData}
                          value={u.role}
                          allowDeselect={false}
                          disabled={self}
                          onChange={(role) =>
                            role &&
                            changeRole.mutate(
                              { id: u.id, role: role as Role },
                              { onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }) },
                            )
                          }
                        />
                      </Table.Td>
                      <Table.Td ta="right">
                        {!self && (
                          <Button size="xs" variant="subtle" color="red" onClick={() => confirmRemove(u)}>
                            {t('users.remove')}
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Modal opened={inviting} onClose={() => setInviting(false)} title={t('users.invite')}>
        <form
          onSubmit={form.onSubmit((values) =>
            invite.mutate(
              { ...values, name: values.name || undefined },
              {
                onSuccess: () => {
                  setInviting(false);
                  form.reset();
                  notifications.show({ color: 'teal', message: t('users.invited', { email: values.email }) });
                },
                onError: (e) => {
                  const { fields, rest } = mapServerErrors(e, ['email', 'name', 'password', 'role']);
                  form.setErrors(fields);
                  if (rest.length) notifications.show({ color: 'red', message: rest.join('\n') });
                },
              },
            ),
          )}
        >
          <Stack>
            <TextInput label={t('users.email')} type="email" required data-autofocus {...form.getInputProps('email')} />
            <TextInput label={t('users.name')} {...form.getInputProps('name')} />
            <PasswordInput label={t('users.password')} description={t('users.passwordHelp')} required autoComplete="new-password" {...form.getInputProps('password')} />
            <Select label={t('users.role')} data={roleData} allowDeselect={false} {...form.getInputProps('role')} />
            <Text size="xs" c="dimmed">
              {t('users.rolesHelp')}
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setInviting(false)}>
                {t('common.cancel')}
              </Button>
              <Button type="submit" loading={invite.isPending}>
                {t('users.invite')}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </Stack>
  );
}
