import { Alert, Badge, Button, Card, Code, Group, Loader, NumberInput, Stack, Text, Title } from '@mantine/core';
import { IconDownload, IconRefresh } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { CopyField } from '@/components/CopyField';
import { errorMessage } from '@/components/ErrorState';
import { JsonView } from '@/components/JsonView';
import { formatRelative } from '@/lib/format';
import { useFetchSample, useSample } from '../../api';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';

export function SampleStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const id = ctx.bundle?.id;
  const sample = useSample(id, ctx.isWebhook);
  const fetchSample = useFetchSample(id);
  const data = sample.data?.data;
  const url = ctx.bundle?.webhook_url ?? '';

  return (
    <Stack>
      {ctx.isWebhook ? (
        <>
          <Text size="sm" c="dimmed">
            {t('wizard.webhookIntro')}
          </Text>
          <CopyField value={url} label={t('wizard.webhookUrl')} testId="webhook-url" />
          <Text size="xs" c="dimmed">
            {t('wizard.curlHint')}
          </Text>
          <Code block style={{ fontSize: 12 }}>
            {`curl -X POST '${url}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{"first_name": "Anna", "email": "anna@example.com", "phone": "8 (912) 345-67-89"}'`}
          </Code>
        </>
      ) : (
        <Group align="flex-end">
          <NumberInput
            label={t('wizard.interval')}
            description={t('wizard.intervalHelp')}
            min={1}
            max={1440}
            w={220}
            disabled={ctx.readOnly}
            value={draft.schedule?.interval_minutes ?? 5}
            onChange={(v) => update((d) => ({ ...d, schedule: { interval_minutes: typeof v === 'number' ? v : Number(v) || 0 } }))}
            error={err('schedule.interval_minutes') ?? err('schedule')}
            suffix={` ${t('wizard.minutes')}`}
          />
          <Button
            leftSection={<IconDownload size={16} />}
            variant="light"
            onClick={() => fetchSample.mutate()}
            loading={fetchSample.isPending}
            disabled={!id}
          >
            {t('wizard.fetchSample')}
          </Button>
        </Group>
      )}
      {fetchSample.isError && <Alert color="red">{errorMessage(fetchSample.error)}</Alert>}
      <Card padding="md" bg={data ? undefined : 'gray.0'}>
        <Group justify="space-between" mb="xs">
          <Title order={5}>{t('wizard.sample')}</Title>
          {data ? (
            <Group gap="xs">
              <Badge color="teal" variant="light" data-testid="sample-received">
                {t('wizard.sampleReceived')}
              </Badge>
              {sample.data?.captured_at && (
                <Text size="xs" c="dimmed">
                  {formatRelative(sample.data.captured_at)}
                </Text>
              )}
              <Button size="compact-xs" variant="subtle" leftSection={<IconRefresh size={12} />} onClick={() => void sample.refetch()}>
                {t('common.refresh')}
              </Button>
            </Group>
          ) : null}
        </Group>
        {data ? (
          <JsonView value={data} />
        ) : ctx.isWebhook ? (
          <Group gap="sm" py="md" justify="center" role="status" aria-live="polite">
            <Loader size="sm" type="dots" />
            <Text size="sm" c="dimmed">
              {t('wizard.waitingForRequest')}
            </Text>
          </Group>
        ) : (
          <Text size="sm" c="dimmed" ta="center" py="md">
            {sample.isError ? errorMessage(sample.error) : t('wizard.noSampleYet')}
          </Text>
        )}
      </Card>
      {!data && (
        <Text size="xs" c="dimmed">
          {t('wizard.sampleOptional')}
        </Text>
      )}
    </Stack>
  );
}
