import { BarChart } from '@mantine/charts';
import { Badge, Card, Group, SegmentedControl, SimpleGrid, Skeleton, Stack, Table, Text, ThemeIcon, Title, Tooltip } from '@mantine/core';
import IconAlertTriangle from '@tabler/icons-react/icons/IconAlertTriangle';
import IconCircleCheck from '@tabler/icons-react/icons/IconCircleCheck';
import IconClockPause from '@tabler/icons-react/icons/IconClockPause';
import IconPlayerPause from '@tabler/icons-react/icons/IconPlayerPause';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import type { Bundle, BundleStatus, StatsBucket } from '@/api/types';
import { DataTable } from '@/components/DataTable';
import { ErrorState } from '@/components/ErrorState';
import { PageHeader } from '@/components/PageHeader';
import { BundleStatusBadge } from '@/components/StatusBadge';
import { useBundles } from '@/features/bundles/api';
import { dateTimeFormat } from '@/lib/format';
import { type Range, useStats } from '../api';

const CHART_SERIES = [
  ['created', 'teal.6'],
  ['updated', 'cyan.6'],
  ['unchanged', 'gray.5'],
  ['skipped_duplicate', 'violet.5'],
  ['filtered', 'dark.3'],
  ['failed', 'red.6'],
  ['test', 'lime.5'], // senders' test requests: counted, never sent to bpm'online
] as const;

/** One row per hour/day (empty ones included), a column per status, summed over bundles. */
export function chartData(items: StatsBucket[], range: Range, now = Date.now()) {
  const unit = range === '24h' ? 3600e3 : 86400e3;
  const count = range === '24h' ? 24 : 7;
  const end = Math.floor(now / unit) * unit;
  // Hours in the user's time zone; days are the server's UTC days, so they are labelled as such.
  const fmt = dateTimeFormat(range === '24h' ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const rows = new Map<number, Record<string, string | number>>();
  for (let i = count - 1; i >= 0; i--) {
    const t = end - i * unit;
    const row: Record<string, string | number> = { t: fmt.format(new Date(t)) };
    for (const [s] of CHART_SERIES) row[s] = 0;
    rows.set(t, row);
  }
  for (const b of items) {
    const t = Math.floor(new Date(b.bucket).getTime() / unit) * unit;
    const row = rows.get(t);
    if (row && b.status in row) row[b.status] = Number(row[b.status]) + b.count;
  }
  return [...rows.values()];
}

/** Bundles with failures first, then by the number of operations. */
export function failingFirst(bundles: Bundle[]): Bundle[] {
  const fails = (b: Bundle) => (b.status === 'error' ? 1e9 : 0) + (b.counts?.failed ?? 0);
  const total = (b: Bundle) => Object.values(b.counts ?? {}).reduce((a, n) => a + n, 0);
  return [...bundles].sort((a, b) => fails(b) - fails(a) || total(b) - total(a));
}

export function DashboardPage() {
  const { t } = useTranslation();
  const [range, setRange] = useState<Range>('24h');
  const stats = useStats(range);
  const bundles = useBundles({ refetchInterval: 30_000 });
  const data = useMemo(() => chartData(stats.data?.items ?? [], range), [stats.data, range]);
  const empty = !stats.data?.items.length;
  const byStatus = (s: BundleStatus) => bundles.data?.filter((b) => b.status === s).length ?? 0;
  const tiles = [
    { status: 'running' as const, icon: IconCircleCheck, color: 'teal' },
    { status: 'waiting' as const, icon: IconClockPause, color: 'blue' },
    { status: 'stopped' as const, icon: IconPlayerPause, color: 'gray' },
    { status: 'error' as const, icon: IconAlertTriangle, color: 'red' },
  ];

  return (
    <>
      <PageHeader title={t('dashboard.title')} description={t('dashboard.description')} />
      <SimpleGrid cols={{ base: 2, md: 4 }} mb="lg">
        {tiles.map((tile) => (
          <Card key={tile.status} padding="md">
            <Group justify="space-between">
              <Stack gap={0}>
                <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                  {t(`bundleStatus.${tile.status}`)}
                </Text>
                <Text fw={700} fz={28} data-testid={`tile-${tile.status}`}>
                  {bundles.isPending ? '…' : byStatus(tile.status)}
                </Text>
              </Stack>
              <ThemeIcon variant="light" color={tile.color} size={40} radius="md">
                <tile.icon size={22} />
              </ThemeIcon>
            </Group>
          </Card>
        ))}
      </SimpleGrid>
      <Card padding="lg" mb="lg">
        <Group justify="space-between" mb="md">
          <Title order={4}>{t('dashboard.operations')}</Title>
          <SegmentedControl
            size="xs"
            value={range}
            onChange={(v) => setRange(v as Range)}
            data={[
              { value: '24h', label: t('dashboard.last24h') },
              { value: '7d', label: t('dashboard.last7d') },
            ]}
          />
        </Group>
        {stats.isError && <ErrorState error={stats.error} onRetry={() => void stats.refetch()} />}
        {stats.isPending && <Skeleton h={280} />}
        {stats.isSuccess &&
          (empty ? (
            <Text c="dimmed" ta="center" py={80}>
              {t('dashboard.noData')}
            </Text>
          ) : (
            <BarChart
              h={280}
              data={data}
              dataKey="t"
              type="stacked"
              withLegend
              legendProps={{ verticalAlign: 'bottom' }}
              series={CHART_SERIES.map(([name, color]) => ({ name, color, label: t(`operationStatus.${name}`) }))}
            />
          ))}
      </Card>
      <Card padding={0}>
        <Title order={4} p="md" pb="xs">
          {t('dashboard.bundles')}
        </Title>
        <DataTable
          query={bundles}
          rows={bundles.data && failingFirst(bundles.data)}
          empty={
            <Text c="dimmed" p="md">
              {t('bundles.empty')}
            </Text>
          }
          minWidth={520}
          loadingHeight={0}
          retry={false}
          card={false}
          verticalSpacing="sm"
          horizontalSpacing="md"
        >
          {(rows) =>
          rows.map((b) => (
            <Table.Tr key={b.id}>
              <Table.Td>
                <Text fw={500} component={Link} to={`/history?bundle=${b.id}`} c="inherit" style={{ textDecoration: 'none' }}>
                  {b.name}
                </Text>
              </Table.Td>
              <Table.Td>
                <BundleStatusBadge status={b.status} />
              </Table.Td>
              <Table.Td>
                <Group gap={6}>
                  {!!b.counts?.failed && (
                    <Badge color="red" variant="light">
                      {t('operationStatus.failed')}: {b.counts.failed}
                    </Badge>
                  )}
                  <Badge color="teal" variant="light">
                    {t('operationStatus.created')}: {b.counts?.created ?? 0}
                  </Badge>
                  <Badge color="cyan" variant="light">
                    {t('operationStatus.updated')}: {b.counts?.updated ?? 0}
                  </Badge>
                  {!!b.counts?.test && (
                    <Tooltip label={t('operationStatusHelp.test')} withArrow>
                      <Badge color="lime" variant="light" data-testid="bundle-test-count">
                        {t('operationStatus.test')}: {b.counts.test}
                      </Badge>
                    </Tooltip>
                  )}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))
          }
        </DataTable>
      </Card>
    </>
  );
}
