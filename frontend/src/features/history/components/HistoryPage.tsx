import { ActionIcon, Button, Card, Checkbox, Collapse, Group, Loader, MultiSelect, Paper, Select, Stack, Switch, Table, Text, TextInput, Tooltip } from '@mantine/core';
import { useDebouncedValue, useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import IconChevronDown from '@tabler/icons-react/icons/IconChevronDown';
import IconChevronRight from '@tabler/icons-react/icons/IconChevronRight';
import IconHistory from '@tabler/icons-react/icons/IconHistory';
import IconRefresh from '@tabler/icons-react/icons/IconRefresh';
import IconRepeat from '@tabler/icons-react/icons/IconRepeat';
import { Fragment, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { OPERATION_STATUSES, type Operation, type OperationStatus } from '@/api/types';
import { DataTable } from '@/components/DataTable';
import { EmptyState } from '@/components/EmptyState';
import { ErrorState, errorMessage } from '@/components/ErrorState';
import { PageHeader } from '@/components/PageHeader';
import { OperationStatusBadge } from '@/components/StatusBadge';
import { usePermissions } from '@/features/auth/api';
import { useBundles } from '@/features/bundles/api';
import { formatDateTime, formatRelative } from '@/lib/format';
import { messageText } from '@/lib/messages';
import { useOperations, useReplay, useReplayFailed, useRetryNow } from '../api';
import { OperationDetails } from './OperationDetails';

const PERIODS = { '1h': 3600, '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400, all: 0 } as const;
type Period = keyof typeof PERIODS;
const REPLAYABLE = new Set<OperationStatus>(['failed', 'not_found', 'skipped_duplicate', 'filtered', 'held']);

export function HistoryPage() {
  const { t } = useTranslation();
  const [search, setSearch] = useSearchParams();
  const { canWrite } = usePermissions();
  const bundles = useBundles();
  const bundleId = search.get('bundle') ?? ''; // none: every bundle of the workspace
  const [q, setQ] = useState(search.get('q') ?? '');
  const [query] = useDebouncedValue(q.trim(), 400);
  const phone = useMediaQuery('(max-width: 48em)');
  const statuses = (search.get('status')?.split(',').filter(Boolean) ?? []) as OperationStatus[];
  const period = (search.get('period') ?? 'all') as Period;
  const [auto, setAuto] = useState(true);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const replay = useReplay();
  const replayFailed = useReplayFailed();
  const retryNow = useRetryNow();
  const doRetryNow = (id: string) =>
    retryNow.mutate(id, {
      onSuccess: () => notifications.show({ color: 'teal', message: t('history.retryQueued') }),
      onError: (error) => notifications.show({ color: 'red', message: errorMessage(error) }),
    });

  // Rounded to the minute so the query key stays stable between renders.
  const from = useMemo(() => {
    const secs = PERIODS[period] ?? 0;
    return secs ? new Date(Math.floor(Date.now() / 60_000) * 60_000 - secs * 1000).toISOString() : undefined;
  }, [period]);
  const ops = useOperations({ bundleId, statuses, from, q: query }, auto ? 5000 : false);
  const rows: Operation[] = ops.data?.pages.flatMap((p) => p.items) ?? [];

  const setParam = (key: string, value: string | null) => {
    const next = new URLSearchParams(search);
    if (value) next.set(key, value);
    else next.delete(key);
    setSearch(next, { replace: true });
    setSelected(new Set());
  };
  const toggle = (set: Set<string>, id: string) => {
    const next = new Set(set);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return next;
  };
  const doReplay = (ids: string[]) =>
    replay.mutate(ids, {
      onSuccess: ({ ok, failed }) => {
        setSelected(new Set());
        notifications.show({ color: failed ? 'orange' : 'teal', message: t('history.replayed', { count: ok, failed }) });
      },
      onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
    });

  return (
    <>
      <PageHeader
        title={t('history.title')}
        description={t('history.description')}
        actions={
          <Group gap="sm">
            <Switch label={t('history.autoRefresh')} checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} />
            <Tooltip label={t('common.refresh')}>
              <ActionIcon variant="light" onClick={() => void ops.refetch()} aria-label={t('common.refresh')} loading={ops.isFetching && !ops.isPending}>
                <IconRefresh size={16} />
              </ActionIcon>
            </Tooltip>
          </Group>
        }
      />
      <Card padding="sm" mb="md">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <Select
            label={t('history.bundle')}
            w={{ base: '100%', sm: 260 }}
            data={(bundles.data ?? []).map((b) => ({ value: b.id, label: b.name }))}
            value={bundleId || null}
            onChange={(v) => setParam('bundle', v)}
            placeholder={t('history.allBundles')}
            clearable
            searchable
            data-testid="history-bundle"
          />
          <TextInput
            label={t('history.search')}
            w={{ base: '100%', sm: 240 }}
            placeholder={t('history.searchPlaceholder')}
            value={q}
            onChange={(e) => setQ(e.currentTarget.value)}
            data-testid="history-search"
          />
          <MultiSelect
            label={t('history.status')}
            w={{ base: '100%', sm: 320 }}
            placeholder={statuses.length ? undefined : t('history.allStatuses')}
            data={OPERATION_STATUSES.map((s) => ({ value: s, label: t(`operationStatus.${s}`) }))}
            value={statuses}
            onChange={(v) => setParam('status', v.join(',') || null)}
            clearable
          />
          <Select
            label={t('history.period')}
            w={{ base: '100%', sm: 180 }}
            data={(Object.keys(PERIODS) as Period[]).map((p) => ({ value: p, label: t(`history.periods.${p}`) }))}
            value={period}
            onChange={(v) => setParam('period', v === 'all' ? null : v)}
            allowDeselect={false}
          />
          {canWrite && (
            <Group gap="xs" ml="auto">
              <Button variant="light" leftSection={<IconRepeat size={16} />} disabled={selected.size === 0} loading={replay.isPending} onClick={() => doReplay([...selected])}>
                {t('history.replaySelected', { count: selected.size })}
              </Button>
              <Button
                variant="light"
                color="red"
                disabled={!bundleId}
                loading={replayFailed.isPending}
                onClick={() =>
                  replayFailed.mutate(bundleId, {
                    onSuccess: ({ replayed }) => notifications.show({ color: 'teal', message: t('history.replayed', { count: replayed, failed: 0 }) }),
                    onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
                  })
                }
              >
                {t('history.replayFailed')}
              </Button>
            </Group>
          )}
        </Group>
      </Card>
      {bundles.isError && <ErrorState error={bundles.error} />}
      {bundles.data?.length === 0 && <EmptyState icon={<IconHistory />} title={t('history.noBundles')} />}
      {phone ? (
        <Stack gap="xs" data-testid="history-cards">
          {rows.map((o) => (
            <Paper key={o.id} withBorder p="sm" data-testid="operation-row" data-status={o.status} onClick={() => setOpen((s) => toggle(s, o.id))}>
              <Group justify="space-between" gap="xs" wrap="nowrap">
                <OperationStatusBadge status={o.status} />
                <Text size="xs" c="dimmed">
                  {formatRelative(o.created_at)}
                </Text>
              </Group>
              <Text size="sm" fw={500} mt={4} data-testid="operation-bundle">
                {o.bundle_name ?? '—'}
              </Text>
              <Text size="sm" c={o.error ? 'red' : 'dimmed'} lineClamp={2} style={{ wordBreak: 'break-word' }}>
                {o.error ?? summary(o.mapped_data ?? o.source_data)}
              </Text>
              {open.has(o.id) && (
                <div onClick={(e) => e.stopPropagation()} style={{ marginTop: 8 }}>
                  <OperationDetails id={o.id} />
                </div>
              )}
            </Paper>
          ))}
          {rows.length === 0 && !ops.isPending && <EmptyState icon={<IconHistory />} title={t('history.empty')} description={t('history.emptyText')} />}
          {ops.hasNextPage && (
            <Button variant="subtle" onClick={() => void ops.fetchNextPage()} loading={ops.isFetchingNextPage}>
              {t('history.loadMore')}
            </Button>
          )}
        </Stack>
      ) : (
      <DataTable
        query={ops}
        rows={rows}
        empty={<EmptyState icon={<IconHistory />} title={t('history.empty')} description={t('history.emptyText')} />}
        minWidth={900}
        loadingHeight={200}
        verticalSpacing="xs"
        horizontalSpacing="sm"
        highlightOnHover
        style={{ tableLayout: 'fixed' }}
        head={
          <>
            {canWrite && <Table.Th w={44} />}
            <Table.Th w={44} />
            <Table.Th w={150}>{t('history.time')}</Table.Th>
            <Table.Th w={180}>{t('history.bundleColumn')}</Table.Th>
            <Table.Th w={170}>{t('history.status')}</Table.Th>
            <Table.Th>{t('history.summary')}</Table.Th>
            <Table.Th w={90}>{t('history.attempts')}</Table.Th>
            <Table.Th w={120} />
          </>
        }
        footer={
          ops.hasNextPage && (
            <Stack align="center" p="sm">
              <Button variant="subtle" onClick={() => void ops.fetchNextPage()} loading={ops.isFetchingNextPage}>
                {t('history.loadMore')}
              </Button>
            </Stack>
          )
        }
      >
        {(rows) =>
          rows.map((o) => {
            const expanded = open.has(o.id);
            return (
              <Fragment key={o.id}>
                <Table.Tr data-testid="operation-row" data-status={o.status} style={{ cursor: 'pointer' }} onClick={() => setOpen((s) => toggle(s, o.id))}>
                  {canWrite && (
                    <Table.Td onClick={(e) => e.stopPropagation()}>
                      <Checkbox
                        aria-label={t('history.select')}
                        checked={selected.has(o.id)}
                        disabled={!REPLAYABLE.has(o.status)}
                        onChange={() => setSelected((s) => toggle(s, o.id))}
                      />
                    </Table.Td>
                  )}
                  <Table.Td>
                    <ActionIcon variant="subtle" color="gray" size="sm" aria-expanded={expanded} aria-label={t('history.expand')}>
                      {expanded ? <IconChevronDown size={14} /> : <IconChevronRight size={14} />}
                    </ActionIcon>
                  </Table.Td>
                  <Table.Td>
                    <Tooltip label={formatDateTime(o.created_at)}>
                      <Text size="sm">{formatRelative(o.created_at)}</Text>
                    </Tooltip>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" truncate title={o.bundle_name ?? undefined} data-testid="operation-bundle">
                      {o.bundle_name ?? '—'}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <OperationStatusBadge status={o.status} />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" truncate c={o.error ? 'red' : undefined} title={o.error ?? undefined}>
                      {o.error ? messageText(t, o.message ?? o.error) : summary(o.mapped_data ?? o.source_data)}
                    </Text>
                  </Table.Td>
                  <Table.Td>{o.attempts}</Table.Td>
                  <Table.Td onClick={(e) => e.stopPropagation()} ta="right">
                    {canWrite && REPLAYABLE.has(o.status) && (
                      <Button size="compact-xs" variant="subtle" leftSection={<IconRepeat size={12} />} onClick={() => doReplay([o.id])}>
                        {t('history.replay')}
                      </Button>
                    )}
                    {o.status === 'retrying' && o.next_attempt_at && (
                      <Tooltip label={t('history.nextAttempt', { time: formatDateTime(o.next_attempt_at) })}>
                        {canWrite ? (
                          <Button size="compact-xs" variant="subtle" leftSection={<IconRefresh size={12} />} loading={retryNow.isPending && retryNow.variables === o.id} onClick={() => doRetryNow(o.id)}>
                            {t('history.retryNow')}
                          </Button>
                        ) : (
                          <Text size="xs" c="dimmed" data-testid="next-attempt">
                            {formatRelative(o.next_attempt_at)}
                          </Text>
                        )}
                      </Tooltip>
                    )}
                  </Table.Td>
                </Table.Tr>
                <Table.Tr style={{ display: expanded ? undefined : 'none' }}>
                  <Table.Td colSpan={canWrite ? 8 : 7} bg="gray.0">
                    <Collapse in={expanded}>{expanded && <OperationDetails id={o.id} />}</Collapse>
                  </Table.Td>
                </Table.Tr>
              </Fragment>
            );
          })
        }
      </DataTable>
      )}
      {ops.isFetching && !ops.isPending && rows.length === 0 && <Loader size="sm" />}
    </>
  );
}

function summary(data: unknown): string {
  if (!data || typeof data !== 'object') return data == null ? '—' : String(data);
  return Object.entries(data as Record<string, unknown>)
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' · ');
}
