import { Card, Group, Select, SimpleGrid, Stack, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { App } from '@/api/types';
import { AppIcon } from '@/components/AppIcon';
import { CatalogField, eventValue } from '@/components/CatalogField';
import { localized } from '@/i18n';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';

export const FALLBACK_SOURCE_APPS: App[] = [
  { name: 'webhook', needs_connection: false, triggers: [{ name: 'incoming_request', kind: 'webhook' }] },
];

export function sourceApps(apps: App[]): App[] {
  const list = apps.filter((a) => (a.triggers?.length ?? 0) > 0);
  return list.length ? list : FALLBACK_SOURCE_APPS;
}

export function SourceStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const apps = sourceApps(ctx.apps);
  const app = apps.find((a) => a.name === draft.source.app);
  const trigger = app?.triggers?.find((tr) => tr.name === draft.source.trigger);
  const connections = ctx.connections.filter((c) => c.app === draft.source.app);

  const pickApp = (a: App) =>
    update((d) => ({
      ...d,
      source: { app: a.name, trigger: a.triggers?.[0]?.name ?? '', connection_id: null, config: {} },
    }));

  return (
    <Stack>
      <TextInput
        label={t('wizard.bundleName')}
        placeholder={t('wizard.bundleNamePlaceholder')}
        required
        disabled={ctx.readOnly}
        value={draft.name}
        onChange={(e) => {
          const name = e.currentTarget.value;
          update((d) => ({ ...d, name }));
        }}
        error={err('name')}
        data-testid="bundle-name"
      />
      <Stack gap={6}>
        <Text size="sm" fw={500}>
          {t('wizard.sourceApp')}
        </Text>
        <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} role="radiogroup" aria-label={t('wizard.sourceApp')}>
          {apps.map((a) => {
            const selected = a.name === draft.source.app;
            return (
              <UnstyledButton
                key={a.name}
                role="radio"
                aria-checked={selected}
                disabled={ctx.readOnly || !!ctx.bundle}
                onClick={() => pickApp(a)}
                data-testid={`source-app-${a.name}`}
              >
                <Card padding="sm" style={{ borderColor: selected ? 'var(--mantine-color-indigo-5)' : undefined, borderWidth: selected ? 2 : 1, background: selected ? 'var(--mantine-color-indigo-0)' : undefined }}>
                  <Group wrap="nowrap" gap="sm">
                    <AppIcon app={a.name} size={32} />
                    <Stack gap={0}>
                      <Text fw={500} size="sm">
                        {localized(a.label, t(`apps.${a.name}`, { defaultValue: a.name }))}
                      </Text>
                      <Text size="xs" c="dimmed" lineClamp={2}>
                        {localized(a.description, t(`apps.${a.name}Description`, { defaultValue: '' }))}
                      </Text>
                    </Stack>
                  </Group>
                </Card>
              </UnstyledButton>
            );
          })}
        </SimpleGrid>
        {err('source.app') && (
          <Text size="xs" c="red">
            {err('source.app')}
          </Text>
        )}
      </Stack>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Select
          label={t('wizard.trigger')}
          required
          disabled={ctx.readOnly || !!ctx.bundle}
          data={(app?.triggers ?? []).map((tr) => ({ value: tr.name, label: localized(tr.label, t(`triggers.${tr.name}`, { defaultValue: tr.name })) }))}
          value={draft.source.trigger || null}
          onChange={(v) => update((d) => ({ ...d, source: { ...d.source, trigger: v ?? '', config: {} } }))}
          error={err('source.trigger')}
          allowDeselect={false}
        />
        {ctx.needsSourceConnection && (
          <Select
            label={t('wizard.sourceConnection')}
            required
            disabled={ctx.readOnly}
            placeholder={connections.length ? t('wizard.pickConnection') : t('wizard.noConnections')}
            data={connections.map((c) => ({ value: c.id, label: c.name }))}
            value={draft.source.connection_id}
            onChange={(v) => update((d) => ({ ...d, source: { ...d.source, connection_id: v } }))}
            error={err('source.connection_id')}
          />
        )}
      </SimpleGrid>
      {/* The polling interval is the bundle's schedule, set on the data step. */}
      {(trigger?.fields ?? []).filter((f) => f.name !== 'interval_minutes').map((f) => (
        <CatalogField
          key={f.name}
          field={f}
          disabled={ctx.readOnly}
          inputProps={{
            value: draft.source.config[f.name] ?? f.default ?? '',
            onChange: (v) => update((d) => ({ ...d, source: { ...d.source, config: { ...d.source.config, [f.name]: eventValue(v) } } })),
            error: err(`source.config.${f.name}`),
          }}
        />
      ))}
    </Stack>
  );
}
