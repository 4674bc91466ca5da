import { ActionIcon, Badge, Button, Group, Menu, Modal, Radio, Stack, Table, Text, Tooltip } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import IconDatabaseImport from '@tabler/icons-react/icons/IconDatabaseImport';
import IconDots from '@tabler/icons-react/icons/IconDots';
import IconLink from '@tabler/icons-react/icons/IconLink';
import IconHistory from '@tabler/icons-react/icons/IconHistory';
import IconPencil from '@tabler/icons-react/icons/IconPencil';
import IconPlayerPlay from '@tabler/icons-react/icons/IconPlayerPlay';
import IconPlayerStop from '@tabler/icons-react/icons/IconPlayerStop';
import IconPlus from '@tabler/icons-react/icons/IconPlus';
import IconTransfer from '@tabler/icons-react/icons/IconTransfer';
import IconTrash from '@tabler/icons-react/icons/IconTrash';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import type { Bundle, OperationStatus } from '@/api/types';
import { CopyField } from '@/components/CopyField';
import { DataTable } from '@/components/DataTable';
import { EmptyState } from '@/components/EmptyState';
import { errorMessage } from '@/components/ErrorState';
import { PageHeader } from '@/components/PageHeader';
import { BundleStatusBadge, OperationStatusBadge } from '@/components/StatusBadge';
import { AppIcon } from '@/components/AppIcon';
import { usePermissions } from '@/features/auth/api';
import { useApps } from '@/features/connections/api';
import { formatDateTime, formatRelative } from '@/lib/format';
import { useBundles, useDeleteBundle, useStartStop } from '../api';
import { startRefusal } from './startRefusal';
import { TransferPanel } from './TransferPanel';
import { RateLimitedWarning } from './WebhookLimit';
import { appLabel } from './wizard/gallery';

const COUNT_COLORS: Array<[string, string]> = [
  ['created', 'teal'],
  ['updated', 'cyan'],
  ['skipped_duplicate', 'violet'],
  ['failed', 'red'],
];

export function BundleListPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { canWrite } = usePermissions();
  const bundles = useBundles({ refetchInterval: 15_000 });
  const apps = useApps();
  const appName = (key: string) => {
    const app = apps.data?.find((a) => a.name === key);
    return app ? appLabel(app, t) : t(`apps.${key}`, { defaultValue: key });
  };
  const startStop = useStartStop();
  const del = useDeleteBundle();
  const [transfer, setTransfer] = useState<Bundle | null>(null);
  const [hookOf, setHookOf] = useState<Bundle | null>(null);

  const run = (b: Bundle, action: 'start' | 'stop', held?: 'process' | 'discard') =>
    startStop.mutate(
      { id: b.id, action, held },
      {
        onSuccess: () =>
          notifications.show({ color: 'teal', message: t(action === 'start' ? 'bundles.started' : 'bundles.stopped', { name: b.name }) }),
        onError: (e) => notifications.show({ color: 'red', title: t('common.error'), message: startRefusal(t, e), style: { whiteSpace: 'pre-line' } }),
      },
    );

  const start = (b: Bundle) => {
    if (b.held_count) {
      modals.open({
        title: t('bundles.heldTitle'),
        children: <HeldChoice count={b.held_count} onChoose={(held) => { modals.closeAll(); run(b, 'start', held); }} />,
      });
    } else run(b, 'start');
  };

  const confirmDelete = (b: Bundle) =>
    modals.openConfirmModal({
      title: t('bundles.deleteTitle'),
      children: <Text size="sm">{t('bundles.deleteText', { name: b.name })}</Text>,
      labels: { confirm: t('common.delete'), cancel: t('common.cancel') },
      confirmProps: { color: 'red' },
      onConfirm: () => del.mutate(b.id, { onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }) }),
    });

  const addButton = canWrite && (
    <Button component={Link} to="/bundles/new/source" leftSection={<IconPlus size={16} />}>
      {t('bundles.add')}
    </Button>
  );

  return (
    <>
      <PageHeader title={t('bundles.title')} description={t('bundles.description')} actions={addButton} />
      <DataTable
        query={bundles}
        rows={bundles.data}
        empty={<EmptyState icon={<IconTransfer />} title={t('bundles.empty')} description={t('bundles.emptyText')} action={addButton} />}
        minWidth={760}
        phoneCards
        verticalSpacing="sm"
        horizontalSpacing="md"
        highlightOnHover
        head={
          <>
            <Table.Th>{t('bundles.name')}</Table.Th>
            <Table.Th w={150}>{t('bundles.status')}</Table.Th>
            <Table.Th>{t('bundles.lastRun')}</Table.Th>
            <Table.Th>
              <CountsLegend />
            </Table.Th>
            <Table.Th w={150} />
          </>
        }
      >
        {(rows) =>
          rows.map((b) => {
            const active = b.status === 'running' || b.status === 'waiting';
            return (
              <Table.Tr key={b.id} data-testid="bundle-row" data-name={b.name}>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <AppIcon app={b.source.app} size={24} />
                    <Stack gap={0}>
                      <Text fw={500}>{b.name}</Text>
                      <Text size="xs" c="dimmed">
                        {appName(b.source.app)} → {(b.steps ?? []).map((s) => s.entity ?? s.process?.schema_name ?? s.key).join(' → ')}
                      </Text>
                    </Stack>
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Stack gap={2} align="flex-start">
                    <BundleStatusBadge status={b.status} />
                    {b.status === 'error' && b.status_reason && (
                      <Text size="xs" c="red" maw={240}>
                        {b.status_reason}
                      </Text>
                    )}
                    {b.incomplete && (
                      <Tooltip label={t('bundles.incompleteHelp', { fields: (b.missing ?? []).map((m) => m.field).join(', ') })} multiline maw={280}>
                        <Badge size="xs" color="orange" variant="light" data-testid="bundle-incomplete">
                          {t('bundles.incomplete')}
                        </Badge>
                      </Tooltip>
                    )}
                    {!!b.held_count && (
                      <Badge size="xs" color="yellow" variant="outline">
                        {t('bundles.held', { count: b.held_count })}
                      </Badge>
                    )}
                  </Stack>
                </Table.Td>
                <Table.Td>
                  <Tooltip label={formatDateTime(b.last_run?.at)} disabled={!b.last_run}>
                    <Group gap={6} wrap="nowrap">
                      <Text size="sm">{b.last_run ? formatRelative(b.last_run.at) : t('bundles.never')}</Text>
                      {b.last_run && <OperationStatusBadge status={b.last_run.status as OperationStatus} />}
                    </Group>
                  </Tooltip>
                </Table.Td>
                <Table.Td>
                  <Group gap={4} wrap="nowrap">
                    {COUNT_COLORS.map(([status, color]) => (
                      <Tooltip key={status} label={t(`operationStatus.${status}`)}>
                        <Badge variant="dot" color={color} size="sm" data-count={status} miw="max-content">
                          {b.counts?.[status] ?? 0}
                        </Badge>
                      </Tooltip>
                    ))}
                  </Group>
                  <RateLimitedWarning count={b.rate_limited_24h ?? 0} compact />
                </Table.Td>
                <Table.Td>
                  <Group gap={4} justify="flex-end" wrap="nowrap">
                    {canWrite &&
                      (active ? (
                        <Button size="xs" variant="outline" color="red" leftSection={<IconPlayerStop size={14} />} onClick={() => run(b, 'stop')} loading={startStop.isPending && startStop.variables?.id === b.id}>
                          {t('bundles.stop')}
                        </Button>
                      ) : (
                        <Button size="xs" variant="light" color="teal" leftSection={<IconPlayerPlay size={14} />} onClick={() => start(b)} loading={startStop.isPending && startStop.variables?.id === b.id}>
                          {t('bundles.start')}
                        </Button>
                      ))}
                    <Menu position="bottom-end">
                      <Menu.Target>
                        <ActionIcon variant="subtle" color="gray" aria-label={t('common.more')}>
                          <IconDots size={16} />
                        </ActionIcon>
                      </Menu.Target>
                      <Menu.Dropdown>
                        <Menu.Item leftSection={<IconHistory size={14} />} onClick={() => navigate(`/history?bundle=${b.id}`)}>
                          {t('nav.history')}
                        </Menu.Item>
                        {b.webhook_url && (
                          <Menu.Item leftSection={<IconLink size={14} />} onClick={() => setHookOf(b)} data-testid="menu-webhook-url">
                            {t('wizard.webhookUrl')}
                          </Menu.Item>
                        )}
                        {!b.webhook_url && (
                          <Menu.Item leftSection={<IconDatabaseImport size={14} />} onClick={() => setTransfer(b)}>
                            {b.source.app === 'csv_import' ? t('transfer.importTitle') : t('transfer.backfillTitle')}
                          </Menu.Item>
                        )}
                        {canWrite && (
                          <Menu.Item leftSection={<IconPencil size={14} />} onClick={() => navigate(`/bundles/${b.id}/edit/source`)}>
                            {t('common.edit')}
                          </Menu.Item>
                        )}
                        {canWrite && (
                          <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={() => confirmDelete(b)}>
                            {t('common.delete')}
                          </Menu.Item>
                        )}
                      </Menu.Dropdown>
                    </Menu>
                  </Group>
                </Table.Td>
              </Table.Tr>
            );
          })
        }
      </DataTable>
      <Modal opened={!!hookOf} onClose={() => setHookOf(null)} size="lg" title={t('wizard.webhookUrl')}>
        {hookOf?.webhook_url && (
          <Stack gap="xs">
            <Text size="sm" c="dimmed">
              {t('bundles.webhookUrlHelp', { name: hookOf.name })}
            </Text>
            <CopyField value={hookOf.webhook_url} testId="bundle-webhook-url" />
          </Stack>
        )}
      </Modal>
      <Modal
        opened={!!transfer}
        onClose={() => setTransfer(null)}
        size="lg"
        title={transfer?.source.app === 'csv_import' ? t('transfer.importTitle') : t('transfer.backfillTitle')}
      >
        {transfer && <TransferPanel bundle={transfer} canWrite={canWrite} />}
      </Modal>
    </>
  );
}

/** The column's title with what each coloured count means (operations of the last 24 hours). */
function CountsLegend() {
  const { t } = useTranslation();
  return (
    <Stack gap={2}>
      <Text size="sm" fw={700}>
        {t('bundles.counts24h')}
      </Text>
      <Group gap={6} data-testid="counts-legend">
        {COUNT_COLORS.map(([status, color]) => (
          <Badge key={status} variant="dot" color={color} size="xs" fw={400} tt="none">
            {t(`operationStatus.${status}`)}
          </Badge>
        ))}
      </Group>
    </Stack>
  );
}

function HeldChoice({ count, onChoose }: { count: number; onChoose: (held: 'process' | 'discard') => void }) {
  const { t } = useTranslation();
  const [choice, setChoice] = useState<'process' | 'discard'>('process');
  return (
    <Stack>
      <Text size="sm">{t('bundles.heldText', { count })}</Text>
      <Radio.Group value={choice} onChange={(v) => setChoice(v as 'process' | 'discard')}>
        <Stack gap="xs">
          <Radio value="process" label={t('bundles.heldProcess')} />
          <Radio value="discard" label={t('bundles.heldDiscard')} />
        </Stack>
      </Radio.Group>
      <Group justify="flex-end">
        <Button onClick={() => onChoose(choice)}>{t('bundles.start')}</Button>
      </Group>
    </Stack>
  );
}
