import { ActionIcon, Badge, Button, Group, Menu, Table, Text, Tooltip } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import IconDots from '@tabler/icons-react/icons/IconDots';
import IconPencil from '@tabler/icons-react/icons/IconPencil';
import IconPlugConnected from '@tabler/icons-react/icons/IconPlugConnected';
import IconPlus from '@tabler/icons-react/icons/IconPlus';
import IconTrash from '@tabler/icons-react/icons/IconTrash';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import type { Connection } from '@/api/types';
import { AppIcon } from '@/components/AppIcon';
import { DataTable } from '@/components/DataTable';
import { EmptyState } from '@/components/EmptyState';
import { errorMessage } from '@/components/ErrorState';
import { PageHeader } from '@/components/PageHeader';
import { usePermissions } from '@/features/auth/api';
import { localized } from '@/i18n';
import { useApps, useConnections, useDeleteConnection, useTestConnection } from '../api';
import { ConnectionState, TestResult, type TestOutcome } from './TestResult';

export function ConnectionListPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { canWrite } = usePermissions();
  const connections = useConnections();
  const apps = useApps();
  const del = useDeleteConnection();
  const test = useTestConnection();
  const [results, setResults] = useState<Record<string, TestOutcome>>({});

  const appLabel = (name: string) =>
    localized(apps.data?.find((a) => a.name === name)?.label, t(`apps.${name}`, { defaultValue: name }));

  const runTest = (c: Connection) =>
    test.mutate(c.id, {
      onSuccess: (r) => setResults((prev) => ({ ...prev, [c.id]: r })),
      onError: (e) => setResults((prev) => ({ ...prev, [c.id]: { ok: false, stage: 'request', message: e.message } })),
    });

  const confirmDelete = (c: Connection) =>
    modals.openConfirmModal({
      title: t('connections.deleteTitle'),
      children: <Text size="sm">{t('connections.deleteText', { name: c.name })}</Text>,
      labels: { confirm: t('common.delete'), cancel: t('common.cancel') },
      confirmProps: { color: 'red', 'data-testid': 'confirm-delete' } as never,
      onConfirm: () =>
        del.mutate(c.id, {
          onSuccess: () => notifications.show({ color: 'teal', message: t('connections.deleted', { name: c.name }) }),
          onError: (e) => notifications.show({ color: 'red', title: t('common.error'), message: errorMessage(e) }),
        }),
    });

  const addButton = canWrite && (
    <Button component={Link} to="/connections/new" leftSection={<IconPlus size={16} />}>
      {t('connections.add')}
    </Button>
  );

  return (
    <>
      <PageHeader title={t('connections.title')} description={t('connections.description')} actions={addButton} />
      <DataTable
        query={connections}
        rows={connections.data}
        empty={<EmptyState icon={<IconPlugConnected />} title={t('connections.empty')} description={t('connections.emptyText')} action={addButton} />}
        minWidth={640}
        verticalSpacing="sm"
        horizontalSpacing="md"
        highlightOnHover
        head={
          <>
            <Table.Th>{t('connections.name')}</Table.Th>
            <Table.Th>{t('connections.app')}</Table.Th>
            <Table.Th>{t('connections.domain')}</Table.Th>
            <Table.Th>{t('connections.state')}</Table.Th>
            <Table.Th w={140} />
          </>
        }
      >
        {(rows) =>
          rows.map((c) => (
            <ConnectionRow
              key={c.id}
              connection={c}
              appLabel={appLabel(c.app)}
              result={results[c.id]}
              testing={test.isPending && test.variables === c.id}
              canWrite={canWrite}
              onTest={() => runTest(c)}
              onEdit={() => navigate(`/connections/${c.id}`)}
              onDelete={() => confirmDelete(c)}
            />
          ))
        }
      </DataTable>
    </>
  );
}

function ConnectionRow(props: {
  connection: Connection;
  appLabel: string;
  result?: TestOutcome;
  testing: boolean;
  canWrite: boolean;
  onTest: () => void;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const { t } = useTranslation();
  const c = props.connection;
  return (
    <>
      <Table.Tr data-testid="connection-row" data-name={c.name}>
        <Table.Td>
          <Group gap="sm" wrap="nowrap">
            <AppIcon app={c.app} size={28} />
            <Text fw={500} component={Link} to={`/connections/${c.id}`} c="inherit" style={{ textDecoration: 'none' }}>
              {c.name}
            </Text>
          </Group>
        </Table.Td>
        <Table.Td>{props.appLabel}</Table.Td>
        <Table.Td>
          <Text size="sm" c="dimmed" style={{ wordBreak: 'break-all' }}>
            {String(c.params.domain ?? c.params.base_url ?? c.params.url ?? '—')}
          </Text>
          {c.secrets_set.length > 0 && (
            <Group gap={4} mt={4}>
              {c.secrets_set.map((s) => (
                <Badge key={s} size="xs" variant="light" color="teal">
                  {t(`connections.secretName.${s}`, { defaultValue: s })}: {t('connections.secretSet')}
                </Badge>
              ))}
            </Group>
          )}
        </Table.Td>
        <Table.Td>
          <ConnectionState test={props.result ? { ...props.result, at: new Date().toISOString() } : c.last_test} />
        </Table.Td>
        <Table.Td>
          <Group gap={4} justify="flex-end" wrap="nowrap">
            <Tooltip label={t('connections.test')}>
              <ActionIcon variant="light" loading={props.testing} onClick={props.onTest} aria-label={t('connections.test')}>
                <IconPlugConnected size={16} />
              </ActionIcon>
            </Tooltip>
            <Menu position="bottom-end" withinPortal>
              <Menu.Target>
                <ActionIcon variant="subtle" color="gray" aria-label={t('common.more')}>
                  <IconDots size={16} />
                </ActionIcon>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Item leftSection={<IconPencil size={14} />} onClick={props.onEdit}>
                  {props.canWrite ? t('common.edit') : t('common.view')}
                </Menu.Item>
                {props.canWrite && (
                  <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={props.onDelete}>
                    {t('common.delete')}
                  </Menu.Item>
                )}
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Table.Td>
      </Table.Tr>
      {props.result && (
        <Table.Tr>
          <Table.Td colSpan={5} pt={0}>
            <TestResult result={props.result} />
          </Table.Td>
        </Table.Tr>
      )}
    </>
  );
}
