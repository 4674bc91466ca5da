import { Alert, Badge, Card, Group, List, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { localized } from '@/i18n';
import { conversionName, ruleMode } from './model';
import type { StepProps } from './types';

export function ReviewStep({ draft, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const conn = (id: string | null) => ctx.connections.find((c) => c.id === id)?.name ?? '—';
  const app = ctx.apps.find((a) => a.name === draft.source.app);
  const rest = Object.entries(errors);
  return (
    <Stack>
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
        <Card>
          <Title order={6} c="dimmed" tt="uppercase" mb={6}>
            {t('wizard.step.target')}
          </Title>
          <Text fw={600}>{conn(draft.target.connection_id)}</Text>
          <Text size="sm">
            {t(`actions.${draft.target.action}`, { defaultValue: draft.target.action })} · {draft.target.entity}
          </Text>
        </Card>
      </SimpleGrid>
      <Card>
        <Title order={6} c="dimmed" tt="uppercase" mb={6}>
          {t('wizard.step.mapping')}
        </Title>
        <Stack gap={4}>
          {draft.mapping.map((r) => (
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
      </Card>
      <Card>
        <Title order={6} c="dimmed" tt="uppercase" mb={6}>
          {t('wizard.step.dedup')}
        </Title>
        <Text fw={600}>{t(`dedup.mode.${draft.dedup.mode}`)}</Text>
        {draft.dedup.mode !== 'always_create' && (
          <Text size="sm">
            {t('dedup.matchFields')}: {draft.dedup.match.map((g) => g.fields.join(' + ')).join(' → ') || '—'}
          </Text>
        )}
        {Object.entries(draft.dedup.update_rules).length > 0 && (
          <Group gap={6} mt={4}>
            {Object.entries(draft.dedup.update_rules).map(([f, r]) => (
              <Badge key={f} variant="light" size="sm" tt="none">
                {f}: {t(`dedup.rule.${r}`)}
              </Badge>
            ))}
          </Group>
        )}
      </Card>
    </Stack>
  );
}
