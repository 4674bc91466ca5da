import { Alert, Badge, Button, Card, Code, Group, JsonInput, Loader, NumberInput, Stack, Text, Title } from '@mantine/core';
import IconDownload from '@tabler/icons-react/icons/IconDownload';
import IconRefresh from '@tabler/icons-react/icons/IconRefresh';
import IconUpload from '@tabler/icons-react/icons/IconUpload';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CopyField } from '@/components/CopyField';
import { errorMessage } from '@/components/ErrorState';
import { JsonView } from '@/components/JsonView';
import { useTestRequest } from '@/features/history/api';
import { ApiError } from '@/lib/api-client';
import { dateTimeFormat } from '@/lib/format';
import { useSample, useSetSample } from '../../api';
import { WebhookLimitField } from '../WebhookLimit';
import { AppInstructions } from './AppInstructions';
import { appLabel } from './gallery';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';

export function SampleStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const id = ctx.bundle?.id;
  const sample = useSample(id, ctx.isWebhook);
  const setSample = useSetSample(id);
  const data = sample.data?.sample ?? null;
  const capturing = !!sample.data?.capture;
  const url = ctx.bundle?.webhook_url ?? '';
  const [pasted, setPasted] = useState('');
  // A sender's test request counts as the first request too (it may carry no fields to sample).
  const testRequest = useTestRequest(id, ctx.isWebhook && !data).data ?? null;
  const arrived = !!data || !!testRequest;

  // A webhook bundle without a sample waits for the next request: arm capture mode once.
  const armed = useRef(false);
  useEffect(() => {
    if (!ctx.isWebhook || ctx.readOnly || !sample.isSuccess || data || capturing || armed.current) return;
    armed.current = true;
    setSample.mutate({ capture: true });
  }, [ctx.isWebhook, ctx.readOnly, sample.isSuccess, data, capturing, setSample]);

  const [pastedError, setPastedError] = useState<string | null>(null);
  const applyPasted = () => {
    try {
      const item = JSON.parse(pasted) as unknown;
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw new Error(t('wizard.sampleMustBeObject'));
      setSample.mutate({ item: item as Record<string, unknown> });
    } catch (e) {
      setSample.reset();
      setPastedError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Stack>
      {ctx.isWebhook ? (
        <>
          <Text size="sm" c="dimmed">
            {t('wizard.webhookIntro')}
          </Text>
          <CopyField value={url} label={t('wizard.webhookUrl')} testId="webhook-url" />
          {ctx.bundle?.webhook_url && <WebhookLimitField bundle={ctx.bundle} readOnly={ctx.readOnly} />}
          {ctx.sourceTrigger && ctx.sourceApp && (ctx.sourceTrigger.instructions || ctx.sourceTrigger.body_template) && (
            <Card padding="md" withBorder>
              <Title order={5} mb="xs">
                {t('wizard.instructionsTitle', { app: appLabel(ctx.sourceApp, t) })}
              </Title>
              <AppInstructions trigger={ctx.sourceTrigger} url={url} />
            </Card>
          )}
          <Text size="xs" c="dimmed">
            {t('wizard.curlHint')}
          </Text>
          <Code block style={{ fontSize: 12 }}>
            {`curl -X POST '${url}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{"first_name": "Anna", "email": "anna@example.com", "phone": "8 (912) 345-67-89"}'`}
          </Code>
        </>
      ) : (
        <NumberInput
          label={t('wizard.interval')}
          description={t('wizard.intervalHelp')}
          min={1}
          max={1440}
          w={240}
          disabled={ctx.readOnly}
          value={draft.schedule?.interval_minutes ?? 5}
          onChange={(v) => update((d) => ({ ...d, schedule: { interval_minutes: typeof v === 'number' ? v : Number(v) || 0 } }))}
          error={err('schedule.interval_minutes') ?? err('schedule')}
          suffix={` ${t('wizard.minutes')}`}
        />
      )}
      {setSample.isError && (
        <Alert color="red" data-testid="sample-error">
          {errorMessage(setSample.error)}
          <SourceRequests error={setSample.error} />
        </Alert>
      )}
      <Card padding="md" bg={data ? undefined : 'gray.0'}>
        <Group justify="space-between" mb="xs">
          <Title order={5}>{t('wizard.sample')}</Title>
          {!ctx.isWebhook && !ctx.readOnly && (
            <Button
              size="xs"
              variant={data ? 'subtle' : 'filled'}
              leftSection={<IconDownload size={14} />}
              disabled={!id}
              loading={setSample.isPending && !!setSample.variables?.fetch}
              onClick={() => setSample.mutate({ fetch: true })}
              data-testid="fetch-sample"
            >
              {data ? t('wizard.fetchSampleAgain') : t('wizard.fetchSample')}
            </Button>
          )}
          {data && (
            <Group gap="xs">
              <Badge color="teal" variant="light" data-testid="sample-received">
                {t('wizard.sampleReceived')}
              </Badge>
              {ctx.isWebhook && !ctx.readOnly && (
                <Button
                  size="compact-xs"
                  variant="subtle"
                  leftSection={<IconRefresh size={12} />}
                  onClick={() => setSample.mutate({ capture: true }, { onSuccess: () => void sample.refetch() })}
                >
                  {t('wizard.captureAgain')}
                </Button>
              )}
            </Group>
          )}
        </Group>
        {data ? (
          <JsonView value={data} />
        ) : testRequest ? (
          <Group gap="sm" py="md" justify="center" role="status" aria-live="polite">
            <Badge color="lime" variant="light" data-testid="test-request-received">
              {t('wizard.testRequestReceived')}
            </Badge>
            <Text size="sm" c="dimmed">
              {t('wizard.testRequestHelp', { at: dateTimeFormat({ dateStyle: 'short', timeStyle: 'medium' }).format(new Date(testRequest.created_at)) })}
            </Text>
          </Group>
        ) : ctx.isWebhook ? (
          <Group gap="sm" py="md" justify="center" role="status" aria-live="polite" data-capturing={capturing} data-testid="sample-waiting">
            <Loader size="sm" type="dots" />
            <Text size="sm" c="dimmed">
              {capturing ? t('wizard.waitingForRequest') : t('common.loading')}
            </Text>
          </Group>
        ) : (
          <Text size="sm" c="dimmed" ta="center" py="md">
            {sample.isError ? errorMessage(sample.error) : t('wizard.noSampleYet')}
          </Text>
        )}
        {capturing && data && (
          <Text size="xs" c="dimmed" mt="xs">
            {t('wizard.waitingForRequest')}
          </Text>
        )}
      </Card>
      {!ctx.readOnly && (
        <Stack gap="xs">
          <JsonInput
            label={t('wizard.pasteSample')}
            description={t('wizard.pasteSampleHelp')}
            placeholder='{"email": "anna@example.com"}'
            autosize
            minRows={3}
            maxRows={10}
            value={pasted}
            onChange={(v) => {
              setPasted(v);
              setPastedError(null);
            }}
            error={pastedError}
          />
          <Group>
            <Button variant="light" size="xs" leftSection={<IconUpload size={14} />} disabled={!pasted.trim() || !id} loading={setSample.isPending} onClick={applyPasted}>
              {t('wizard.useSample')}
            </Button>
          </Group>
        </Stack>
      )}
      {!arrived && (
        <Text size="xs" c="dimmed">
          {t('wizard.sampleOptional')}
        </Text>
      )}
    </Stack>
  );
}

interface SourceRequest {
  method: string;
  url: string;
  status?: number | null;
  error?: string | null;
  response_body?: string | null;
}

/** What the source was asked and what it answered, when fetching a sample failed (`details.requests`). */
export function SourceRequests({ error }: { error: unknown }) {
  const { t } = useTranslation();
  const details = error instanceof ApiError ? (error.details as { requests?: SourceRequest[] } | null) : null;
  const requests = details && !Array.isArray(details) ? (details.requests ?? []) : [];
  if (requests.length === 0) return null;
  return (
    <Stack gap={4} mt="xs" data-testid="sample-requests">
      <Text size="xs" fw={600}>
        {t('wizard.sourceRequests')}
      </Text>
      {requests.map((r, i) => (
        <Code key={i} block style={{ fontSize: 12, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
          {`${r.method} ${r.url}\n→ ${r.status ? `HTTP ${r.status}` : (r.error ?? '—')}${r.response_body ? `\n${r.response_body.slice(0, 2000)}` : ''}`}
        </Code>
      ))}
    </Stack>
  );
}
