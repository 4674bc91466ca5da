import { Alert, Badge, Code, Group, Paper, SimpleGrid, Skeleton, Stack, Tabs, Text, Title } from '@mantine/core';
import IconAlertTriangle from '@tabler/icons-react/icons/IconAlertTriangle';
import { useTranslation } from 'react-i18next';
import type { OperationDetail, Step } from '@/api/types';
import { ErrorState } from '@/components/ErrorState';
import { JsonView } from '@/components/JsonView';
import { useBundle } from '@/features/bundles/api';
import { useApps } from '@/features/connections/api';
import { formatDateTime } from '@/lib/format';
import { messageText, sentence } from '@/lib/messages';
import { useOperation } from '../api';
import { decodeUrl, systemName, type CatalogApp } from '../lib/present';
import { ChangesTable, FieldTable } from './DataTables';
import { IncomingView } from './IncomingView';
import { RemoteText, StepResults } from './StepResults';

const FINAL = new Set(['created', 'updated', 'unchanged', 'skipped_duplicate', 'not_found', 'filtered', 'failed', 'held', 'test']);


/** Statuses whose `error` is a problem; on any other it is a note on how the operation was decided. */
const PROBLEM_STATUSES = new Set<string>(['failed', 'retrying', 'processing', 'queued', 'held']);
export function OperationDetails({ id }: { id: string }) {
  const { t } = useTranslation();
  const op = useOperation(id, true);
  const o = op.data as OperationDetail | undefined;
  // The steps' names are the bundle's (the operation keeps their keys).
  const bundle = useBundle(o?.step_results?.length ? o.bundle_id : undefined);
  const apps = useApps();
  if (op.isPending) return <Skeleton h={120} />;
  if (op.isError || !o) return <ErrorState error={op.error} />;
  const steps = o.requests ?? o.steps ?? [];
  const results = o.step_results ?? [];
  const names = Object.fromEntries((bundle.data?.steps ?? []).map((s) => [s.key, s.name || s.key]));
  // A failed step says why the operation failed, in the reader's language (`error` is the English sentence).
  const failed = results.find((r) => r.result === 'failed' && r.error);
  // The operation's own message (code + params) when it has one; older operations only have `error`.
  const errorText = o.message
    ? sentence(messageText(t, o.message))
    : failed
      ? sentence(t('step_failed', { ns: 'server', name: names[failed.key] || failed.key, error: messageText(t, failed.error), interpolation: { escapeValue: false } }))
      : o.error;
  return (
    <Stack gap="sm" data-testid="operation-details">
      {errorText && (
        // The same column says why an operation failed or waits, and how a finished one was decided
        // (which duplicate group matched, with which values and records): only the first is an error.
        <Alert
          color={PROBLEM_STATUSES.has(o.status) ? 'red' : 'blue'}
          icon={<IconAlertTriangle size={18} />}
          title={t(PROBLEM_STATUSES.has(o.status) ? 'history.error' : 'history.note')}
          data-testid="operation-note"
          data-kind={PROBLEM_STATUSES.has(o.status) ? 'error' : 'note'}
        >
          <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} data-testid="operation-error-text">
            {errorText}
          </Text>
          <RemoteText text={o.message?.remote ?? failed?.error?.remote} />
        </Alert>
      )}
      <Group gap="lg">
        <Text size="xs" c="dimmed">
          {t('history.attempts')}: <b>{o.attempts}</b>
        </Text>
        {o.record_id && (
          <Text size="xs" c="dimmed">
            {t('history.recordId')}: <Code>{o.record_id}</Code>
          </Text>
        )}
        <Text size="xs" c="dimmed">
          {t('history.finished')}: {FINAL.has(o.status) ? formatDateTime(o.finished_at) : '…'}
        </Text>
        {o.status === 'retrying' && o.next_attempt_at && (
          <Text size="xs" c="dimmed" data-testid="next-attempt">
            {t('history.nextAttempt', { time: formatDateTime(o.next_attempt_at) })}
          </Text>
        )}
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <FieldTable title={t('history.sourceData')} data={o.source_data} testId="operation-source" />
        <FieldTable title={t('history.mappedData')} data={o.mapped_data} testId="operation-sent" />
      </SimpleGrid>
      <ChangesTable changes={o.changes} />
      {results.length > 0 && (
        <>
          <Title order={6}>{t('history.stepResults', { count: results.length })}</Title>
          <StepResults results={results} names={names} />
        </>
      )}
      <Title order={6}>{t('history.steps', { count: steps.length + (o.incoming ? 1 : 0) })}</Title>
      {o.incoming && <IncomingView incoming={o.incoming} />}
      {steps.length === 0 && !o.incoming && (
        <Text size="sm" c="dimmed">
          {t('history.noSteps')}
        </Text>
      )}
      {steps.map((s, i) => (
        <StepView key={`${s.attempt}-${s.position}`} step={s} index={i + 1 + (o.incoming ? 1 : 0)} apps={apps.data ?? []} />
      ))}
    </Stack>
  );
}

function StepView({ step, index, apps }: { step: Step; index: number; apps: CatalogApp[] }) {
  const { t, i18n } = useTranslation();
  const url = decodeUrl(step.url);
  const failed = !!step.error || (step.status ?? 0) >= 400;
  const statusColor = step.status == null ? 'gray' : step.status < 300 ? 'teal' : step.status < 400 ? 'blue' : 'red';
  return (
    <Paper withBorder p="sm" style={{ borderColor: failed ? 'var(--mantine-color-red-4)' : undefined, background: failed ? 'var(--mantine-color-red-0)' : undefined }} data-testid="operation-step">
      <Group gap="xs" wrap="wrap" mb="xs">
        <Badge size="sm" variant="outline" color="gray">
          {index}
        </Badge>
        {step.attempt > 1 && (
          <Badge size="sm" variant="light" color="orange">
            {t('history.attempt', { n: step.attempt })}
          </Badge>
        )}
        {step.system && (
          <Badge size="sm" variant="light" tt="none" color={step.system === 'bpmonline' ? 'indigo' : 'grape'} data-testid="step-system">
            {step.system === 'source' ? t('history.system.source') : systemName(step.system, apps, i18n.language)}
          </Badge>
        )}
        <Text size="sm" ff="monospace" fw={600}>
          {step.method}
        </Text>
        <Text size="sm" ff="monospace" style={{ flex: '1 1 220px', minWidth: 0, wordBreak: 'break-all' }} title={url} data-testid="step-url">
          {url}
        </Text>
        {step.status != null && (
          <Badge color={statusColor} variant="filled" size="sm">
            {step.status}
          </Badge>
        )}
        {step.duration_ms != null && (
          <Text size="xs" c="dimmed">
            {Math.round(step.duration_ms)} ms
          </Text>
        )}
      </Group>
      {step.error && (
        <Text size="sm" c="red" fw={500} mb="xs" role="alert">
          {step.error}
        </Text>
      )}
      <Tabs defaultValue={failed ? 'response' : 'request'} variant="outline">
        <Tabs.List>
          <Tabs.Tab value="request">{t('history.request')}</Tabs.Tab>
          <Tabs.Tab value="response">{t('history.response')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="request" pt="xs">
          <Stack gap={4}>
            {step.request_headers && (
              <>
                <Text size="xs" c="dimmed">
                  {t('history.headers')}
                </Text>
                <JsonView value={step.request_headers} maxHeight={120} />
              </>
            )}
            <Text size="xs" c="dimmed">
              {t('history.body')}
            </Text>
            <JsonView value={step.request_body ?? null} maxHeight={240} />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="response" pt="xs">
          <JsonView value={step.response_body ?? null} maxHeight={240} error={failed} />
        </Tabs.Panel>
      </Tabs>
    </Paper>
  );
}
