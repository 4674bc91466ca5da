import { Alert, Badge, Button, Card, Group, List, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import IconServerBolt from '@tabler/icons-react/icons/IconServerBolt';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CopyField } from '@/components/CopyField';
import { errorMessage } from '@/components/ErrorState';
import { localized } from '@/i18n';
import { usePreview, useSaveBundle } from '../../api';
import type { StepsPreviewResult } from '../../api/steps';
import { stepPreview } from '../../api/steps';
import { conversionName, ruleMode, toBundleInput } from './model';
import { StepPreviewView } from './StepPreviewView';
import { SEARCHING, type DraftStep, stepTitle } from './stepsModel';
import type { StepProps } from './types';

function StepCard({ step, index, conn, children }: { step: DraftStep; index: number; conn: string; children?: React.ReactNode }) {
  const { t } = useTranslation();
  return (
    <Card withBorder data-testid={`review-step-${index}`}>
      <Group gap="xs" mb={6}>
        <Badge size="sm" variant="outline" circle>
          {index + 1}
        </Badge>
        <Text fw={600}>{stepTitle(step, t)}</Text>
        <Text size="sm" c="dimmed">
          {t(`steps.action.${step.action}.title`)} · {step.entity || step.process?.schema_name} · {conn}
        </Text>
      </Group>
      {step.condition?.conditions.length ? (
        <Text size="xs" c="dimmed">
          {t('steps.review.condition', { count: step.condition.conditions.length })}
        </Text>
      ) : null}
      {step.for_each && (
        <Text size="xs" c="dimmed">
          {t('steps.review.forEach', { path: step.for_each })}
        </Text>
      )}
      <Stack gap={4} mt={4}>
        {step.mapping.map((r) => (
          <Group key={r.target} gap="xs" wrap="nowrap">
            <Text size="sm" ff="monospace" fw={600} miw={140}>
              {r.target}
            </Text>
            <Text size="sm" c="dimmed">
              ←
            </Text>
            <Text size="sm" ff="monospace" truncate>
              {ruleMode(r) === 'source' && r.source}
              {ruleMode(r) === 'template' && r.template}
              {ruleMode(r) === 'constant' && JSON.stringify(r.constant)}
              {ruleMode(r) === 'lookup' && `${r.lookup?.entity}.${r.lookup?.by} = ${r.lookup?.value}`}
            </Text>
            {(r.convert ?? []).map(conversionName).map((c, i) => (
              <Badge key={i} size="xs" variant="outline" tt="none">
                {t(`conversions.${c}`, { defaultValue: c })}
              </Badge>
            ))}
          </Group>
        ))}
      </Stack>
      {SEARCHING.has(step.action) && (
        <Text size="sm" mt={6}>
          {t(`dedup.mode.${step.dedup.mode}`)}
          {step.dedup.mode !== 'always_create' && `: ${step.dedup.match.map((g) => g.fields.join(' + ')).join(' → ') || '—'}`}
        </Text>
      )}
      {children}
    </Card>
  );
}

export function ReviewStep({ draft, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const conn = (id: string | null) => ctx.connections.find((c) => c.id === id)?.name ?? '—';
  const app = ctx.apps.find((a) => a.name === draft.source.app);
  const rest = Object.entries(errors);
  const save = useSaveBundle();
  const preview = usePreview(ctx.bundle?.id);
  const [result, setResult] = useState<{ data: StepsPreviewResult; steps: DraftStep[] } | null>(null);
  const [checkError, setCheckError] = useState<string | null>(null);
  const names = Object.fromEntries(draft.steps.map((s) => [s.key, stepTitle(s, t)]));
  const fresh = result && result.steps === draft.steps ? result.data : null;

  const check = async () => {
    if (!ctx.bundle) return;
    setCheckError(null);
    try {
      await save.mutateAsync({ id: ctx.bundle.id, body: toBundleInput(draft) });
      setResult({ data: (await preview.mutateAsync({})) as StepsPreviewResult, steps: draft.steps });
    } catch (e) {
      setCheckError(errorMessage(e));
    }
  };

  return (
    <Stack>
      {ctx.bundle?.webhook_url && <CopyField value={ctx.bundle.webhook_url} label={t('wizard.webhookUrl')} testId="review-webhook-url" />}
      {ctx.bundle?.incomplete && (
        <Alert color="yellow" title={t('wizard.missingTitle')} data-testid="review-incomplete">
          {t('bundles.incompleteHelp', { fields: (ctx.bundle.missing ?? []).map((m) => m.field).join(', ') })}
        </Alert>
      )}
      {rest.length > 0 && (
        <Alert color="red" title={t('wizard.fixErrors')} role="alert">
          <List size="sm">
            {rest.map(([k, v]) => (
              <List.Item key={k}>
                {k}: {t(v, { defaultValue: v })}
              </List.Item>
            ))}
          </List>
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Card>
          <Title order={6} c="dimmed" tt="uppercase" mb={6}>
            {t('wizard.step.source')}
          </Title>
          <Text fw={600}>{localized(app?.label, t(`apps.${draft.source.app}`, { defaultValue: draft.source.app }))}</Text>
          <Text size="sm">{localized(ctx.sourceTrigger?.label, t(`triggers.${draft.source.trigger}`, { defaultValue: draft.source.trigger }))}</Text>
          {draft.source.connection_id && <Text size="sm" c="dimmed">{conn(draft.source.connection_id)}</Text>}
          {!ctx.isWebhook && (
            <Text size="sm" c="dimmed">
              {t('wizard.everyMinutes', { count: draft.schedule?.interval_minutes ?? 5 })}
            </Text>
          )}
        </Card>
      </SimpleGrid>
      <Group justify="space-between">
        <Title order={6} c="dimmed" tt="uppercase">
          {t('steps.title')}
        </Title>
        {ctx.bundle && !ctx.readOnly && (
          <Button size="xs" variant="light" leftSection={<IconServerBolt size={16} />} loading={save.isPending || preview.isPending} onClick={() => void check()} data-testid="check-steps">
            {t('steps.review.check')}
          </Button>
        )}
      </Group>
      {checkError && (
        <Alert color="red" p="xs" style={{ whiteSpace: 'pre-line' }}>
          {checkError}
        </Alert>
      )}
      {draft.steps.map((s, i) => {
        const p = fresh ? stepPreview(fresh, s.key, draft.steps.length === 1) : null;
        return (
          <StepCard key={`${s.key}-${i}`} step={s} index={i} conn={conn(s.connection_id)}>
            {p && (
              <Stack mt="sm">
                <StepPreviewView preview={p} names={names} />
              </Stack>
            )}
          </StepCard>
        );
      })}
    </Stack>
  );
}
