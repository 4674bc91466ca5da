import { Badge, Group, Paper, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { components } from '@/api/schema';
import { JsonView } from '@/components/JsonView';
import { formatDateTime } from '@/lib/format';
import { decodeUrl } from '../lib/present';
import { FieldTable } from './DataTables';

type Incoming = components['schemas']['IncomingRequestOut'];

/** The webhook request the operation came from (the first request of the operation), as the gateway stored it. */
export function IncomingView({ incoming }: { incoming: Incoming }) {
  const { t } = useTranslation();
  return (
    <Paper withBorder p="sm" data-testid="operation-incoming">
      <Group gap="xs" wrap="wrap" mb="xs">
        <Badge size="sm" variant="outline" color="gray">
          1
        </Badge>
        <Badge size="sm" variant="light" color="grape" tt="none">
          {t('history.incoming')}
        </Badge>
        <Text size="sm" ff="monospace" fw={600}>
          {incoming.method}
        </Text>
        {incoming.query && (
          <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
            ?{decodeUrl(`?${incoming.query}`).slice(1)}
          </Text>
        )}
        <Text size="xs" c="dimmed">
          {t('history.sender')}: {incoming.client ?? '—'} · {formatDateTime(incoming.received_at)}
        </Text>
      </Group>
      <Stack gap="xs">
        <FieldTable title={t('history.headers')} data={incoming.headers} testId="incoming-headers" />
        <Text size="xs" c="dimmed">
          {t('history.body')}
        </Text>
        <JsonView value={incoming.body ?? null} maxHeight={240} />
      </Stack>
    </Paper>
  );
}
