import { Accordion, Anchor, Button, Card, Group, PasswordInput, Radio, Select, Stack, Text, TextInput } from '@mantine/core';
import IconPlus from '@tabler/icons-react/icons/IconPlus';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { type App, type AppField, type AppTrigger, fieldShown } from '@/api/types';
import { AppIcon } from '@/components/AppIcon';
import { CatalogField, SecretLabel, eventValue } from '@/components/CatalogField';
import { localized } from '@/i18n';
import { appLabel } from './gallery';
import { SourceGallery } from './SourceGallery';
import type { StepProps } from './types';
import { useErrorText } from './useErrorText';

export const FALLBACK_SOURCE_APPS: App[] = [
  { name: 'webhook', needs_connection: false, triggers: [{ name: 'incoming_request', kind: 'webhook' }] },
];

export function sourceApps(apps: App[]): App[] {
  const list = apps.filter((a) => (a.triggers?.length ?? 0) > 0);
  return list.length ? list : FALLBACK_SOURCE_APPS;
}

/** Requests proven by a shared secret (a header, a signature, a token): the user gives the secret. */
function asksForSecret(trigger: AppTrigger | undefined): boolean {
  const mode = trigger?.webhook?.verification?.mode;
  return !!mode && mode !== 'none' && mode !== 'address';
}

/** A trigger says whether it needs a source connection; else its app does. */
export function needsConnection(app: App | undefined, trigger: AppTrigger | undefined): boolean {
  if (!app) return false;
  // As the api's `needs_connection`: a read-back needs one, else the trigger's word, else the app's.
  if (trigger?.readback) return true;
  return trigger?.needs_connection ?? app.needs_connection !== false;
}

export function SourceStep({ draft, update, errors, ctx }: StepProps) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const apps = sourceApps(ctx.apps);
  const app = apps.find((a) => a.name === draft.source.app);
  const trigger = app?.triggers?.find((tr) => tr.name === draft.source.trigger);
  // A saved bundle keeps its app; a new one starts in the gallery and may go back to it.
  const [browsing, setBrowsing] = useState(!app && !ctx.bundle);

  const pickApp = (a: App) => {
    setBrowsing(false);
    if (a.name === draft.source.app) return;
    update((d) => ({ ...d, source: { app: a.name, trigger: a.triggers?.[0]?.name ?? '', connection_id: null, config: {} } }));
  };

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
      {browsing || !app ? (
        <SourceGallery apps={apps} selected={draft.source.app} onPick={pickApp} disabled={ctx.readOnly || !!ctx.bundle} />
      ) : (
        <ChosenSource app={app} trigger={trigger} ctx={ctx} draft={draft} update={update} errors={errors} onChange={() => setBrowsing(true)} />
      )}
      {err('source.app') && (
        <Text size="xs" c="red">
          {err('source.app')}
        </Text>
      )}
    </Stack>
  );
}

/** The chosen app: its triggers in its own words, the trigger's config, and its connection. */
function ChosenSource({ app, trigger, onChange, draft, update, errors, ctx }: StepProps & { app: App; trigger?: AppTrigger; onChange: () => void }) {
  const { t } = useTranslation();
  const err = useErrorText(errors);
  const connections = ctx.connections.filter((c) => c.app === app.name);
  const triggers = app.triggers ?? [];
  const locked = ctx.readOnly || !!ctx.bundle;
  // Only the fields that apply to the choices made; paging and cursors under «Дополнительно».
  const declared = trigger?.config_fields ?? [];
  const shown = declared.filter((f) => f.name !== 'interval_minutes' && fieldShown(f, draft.source.config, declared));
  const simple = shown.filter((f) => !f.advanced);
  const advanced = shown.filter((f) => f.advanced);
  const configField = (f: AppField) => (
    <CatalogField
      key={f.name}
      field={f}
      disabled={ctx.readOnly}
      secretSet={f.secret ? (ctx.bundle?.config_secrets_set ?? []).includes(f.name) : undefined}
      inputProps={{
        value: draft.source.config[f.name] ?? f.default ?? '',
        onChange: (v) => update((d) => ({ ...d, source: { ...d.source, config: { ...d.source.config, [f.name]: eventValue(v) } } })),
        error: err(`source.config.${f.name}`),
      }}
    />
  );

  return (
    <Stack data-testid="chosen-source">
      <Card padding="sm">
        <Group justify="space-between" wrap="nowrap">
          <Group wrap="nowrap" gap="sm" miw={0}>
            <AppIcon app={app.name} size={40} />
            <Stack gap={0} miw={0}>
              <Text fw={600}>{appLabel(app, t)}</Text>
              <Text size="sm" c="dimmed">
                {localized(app.description, t(`apps.${app.name}Description`, { defaultValue: '' }))}
              </Text>
            </Stack>
          </Group>
          {!locked && (
            <Button variant="subtle" size="xs" onClick={onChange} data-testid="change-app">
              {t('wizard.gallery.change')}
            </Button>
          )}
        </Group>
      </Card>
      <Radio.Group
        label={t('wizard.trigger')}
        required
        value={draft.source.trigger || null}
        onChange={(v) => update((d) => ({ ...d, source: { ...d.source, trigger: v, config: {} } }))}
        error={err('source.trigger')}
      >
        <Stack gap="xs" mt={6}>
          {triggers.map((tr) => (
            <Radio.Card key={tr.name} value={tr.name} disabled={locked} p="sm" radius="md" data-testid={`trigger-${tr.name}`}>
              <Group wrap="nowrap" align="flex-start" gap="sm">
                <Radio.Indicator disabled={locked} />
                <Stack gap={0}>
                  <Text size="sm" fw={500}>
                    {localized(tr.label, t(`triggers.${tr.name}`, { defaultValue: tr.name }))}
                  </Text>
                  {tr.description && (
                    <Text size="xs" c="dimmed">
                      {localized(tr.description)}
                    </Text>
                  )}
                </Stack>
              </Group>
            </Radio.Card>
          ))}
        </Stack>
      </Radio.Group>
      {ctx.needsSourceConnection && (
        <Stack gap={4}>
          <Select
            label={t('wizard.sourceConnection')}
            required
            disabled={ctx.readOnly}
            placeholder={connections.length ? t('wizard.pickConnection') : t('wizard.noConnections')}
            data={connections.map((c) => ({ value: c.id, label: c.name }))}
            value={draft.source.connection_id}
            onChange={(v) => update((d) => ({ ...d, source: { ...d.source, connection_id: v } }))}
            error={err('source.connection_id')}
            data-testid="source-connection"
          />
          {!ctx.readOnly && (
            <Anchor component={Link} to={`/connections/new?app=${encodeURIComponent(app.name)}`} size="sm" data-testid="create-source-connection">
              <Group gap={4} component="span" display="inline-flex">
                <IconPlus size={14} />
                {t('wizard.createConnection', { app: appLabel(app, t) })}
              </Group>
            </Anchor>
          )}
        </Stack>
      )}
      {/* The polling interval is the bundle's schedule, set on the data step. */}
      {simple.map(configField)}
      {advanced.length > 0 && (
        <Accordion variant="contained" data-testid="advanced-config">
          <Accordion.Item value="advanced">
            <Accordion.Control>
              <Text size="sm" fw={500}>
                {t('wizard.advanced')}
              </Text>
              <Text size="xs" c="dimmed">
                {t('wizard.advancedHelp')}
              </Text>
            </Accordion.Control>
            <Accordion.Panel>
              <Stack gap="sm">{advanced.map(configField)}</Stack>
            </Accordion.Panel>
          </Accordion.Item>
        </Accordion>
      )}
      {asksForSecret(trigger) && (
        <PasswordInput
          label={<SecretLabel label={t('wizard.webhookSecret')} set={!!ctx.bundle?.webhook_secret_set} />}
          description={t(trigger?.webhook?.verification?.optional ? 'wizard.webhookSecretOptional' : 'wizard.webhookSecretHelp')}
          required={!trigger?.webhook?.verification?.optional && !ctx.bundle?.webhook_secret_set}
          placeholder={ctx.bundle?.webhook_secret_set ? t('connections.secretKeep') : undefined}
          disabled={ctx.readOnly}
          value={ctx.webhookSecret}
          onChange={(e) => ctx.setWebhookSecret(e.currentTarget.value)}
          error={err('webhook_secret')}
          autoComplete="new-password"
          data-testid="webhook-secret"
        />
      )}
    </Stack>
  );
}
