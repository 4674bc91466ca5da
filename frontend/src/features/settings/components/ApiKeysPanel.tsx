import { Alert, Badge, Button, Group, Modal, Stack, Table, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import IconAlertTriangle from '@tabler/icons-react/icons/IconAlertTriangle';
import IconKey from '@tabler/icons-react/icons/IconKey';
import IconPlus from '@tabler/icons-react/icons/IconPlus';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiKey, ApiKeyCreated } from '@/api/types';
import { CopyField } from '@/components/CopyField';
import { DataTable } from '@/components/DataTable';
import { EmptyState } from '@/components/EmptyState';
import { errorMessage } from '@/components/ErrorState';
import { usePermissions } from '@/features/auth/api';
import { formatDateTime, formatRelative } from '@/lib/format';
import { mapServerErrors } from '@/lib/form-errors';
import { useApiKeys, useCreateApiKey, useRevokeApiKey } from '../api';

export function ApiKeysPanel() {
  const { t } = useTranslation();
  const { canWrite } = usePermissions();
  const keys = useApiKeys();
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const form = useForm({
    initialValues: { name: '' },
    validate: { name: (v) => (v.trim() ? null : t('common.required')) },
  });

  const confirmRevoke = (k: ApiKey) =>
    modals.openConfirmModal({
      title: t('apiKeys.revokeTitle'),
      children: <Text size="sm">{t('apiKeys.revokeText', { name: k.name })}</Text>,
      labels: { confirm: t('apiKeys.revoke'), cancel: t('common.cancel') },
      confirmProps: { color: 'red' },
      onConfirm: () =>
        revoke.mutate(k.id, {
          onSuccess: () => notifications.show({ color: 'teal', message: t('apiKeys.revoked', { name: k.name }) }),
          onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
        }),
    });

  const closeCreate = () => {
    setCreating(false);
    setCreated(null);
    form.reset();
    create.reset();
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Text c="dimmed" size="sm" maw={640}>
          {t('apiKeys.description')}
        </Text>
        {canWrite && (
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
            {t('apiKeys.create')}
          </Button>
        )}
      </Group>
      <DataTable
        query={keys}
        rows={keys.data}
        empty={<EmptyState icon={<IconKey />} title={t('apiKeys.empty')} />}
        minWidth={560}
        loadingHeight={120}
        verticalSpacing="sm"
        horizontalSpacing="md"
        head={
          <>
            <Table.Th>{t('apiKeys.name')}</Table.Th>
            <Table.Th>{t('apiKeys.prefix')}</Table.Th>
            <Table.Th>{t('apiKeys.created')}</Table.Th>
            <Table.Th>{t('apiKeys.lastUsed')}</Table.Th>
            <Table.Th />
          </>
        }
      >
        {(rows) =>
          rows.map((k) => (
            <Table.Tr key={k.id} data-testid="api-key-row" style={{ opacity: k.revoked_at ? 0.6 : 1 }}>
              <Table.Td fw={500}>
                {k.name}{' '}
                {k.revoked_at && (
                  <Badge size="xs" color="gray" variant="light">
                    {t('apiKeys.revokedBadge')}
                  </Badge>
                )}
              </Table.Td>
              <Table.Td>
                <Text ff="monospace" size="sm">
                  {k.prefix ? `${k.prefix}…` : '—'}
                </Text>
              </Table.Td>
              <Table.Td>{formatDateTime(k.created_at)}</Table.Td>
              <Table.Td>{k.last_used_at ? formatRelative(k.last_used_at) : t('apiKeys.never')}</Table.Td>
              <Table.Td ta="right">
                {canWrite && !k.revoked_at && (
                  <Button size="xs" variant="subtle" color="red" onClick={() => confirmRevoke(k)}>
                    {t('apiKeys.revoke')}
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))
        }
      </DataTable>
      <Modal opened={creating} onClose={closeCreate} title={created ? t('apiKeys.createdTitle') : t('apiKeys.create')} size="lg">
        {created ? (
          <Stack>
            <Alert color="yellow" icon={<IconAlertTriangle size={18} />}>
              {t('apiKeys.showOnce')}
            </Alert>
            <CopyField value={created.key} label={created.name} testId="api-key-value" />
            <Text size="sm" c="dimmed">
              {t('apiKeys.usage')}
            </Text>
            <Group justify="flex-end">
              <Button onClick={closeCreate}>{t('common.done')}</Button>
            </Group>
          </Stack>
        ) : (
          <form
            onSubmit={form.onSubmit(({ name }) =>
              create.mutate(name.trim(), {
                onSuccess: (k) => setCreated(k),
                onError: (e) => {
                  const { fields, rest } = mapServerErrors(e, ['name']);
                  form.setErrors(fields);
                  if (rest.length) notifications.show({ color: 'red', message: rest.join('\n') });
                },
              }),
            )}
          >
            <Stack>
              <TextInput label={t('apiKeys.name')} placeholder={t('apiKeys.namePlaceholder')} data-autofocus required {...form.getInputProps('name')} />
              <Group justify="flex-end">
                <Button variant="default" onClick={closeCreate}>
                  {t('common.cancel')}
                </Button>
                <Button type="submit" loading={create.isPending}>
                  {t('apiKeys.create')}
                </Button>
              </Group>
            </Stack>
          </form>
        )}
      </Modal>
    </Stack>
  );
}
