import { Alert, Button, Group, List, Stack, Text } from '@mantine/core';
import IconAlertTriangle from '@tabler/icons-react/icons/IconAlertTriangle';
import IconSearch from '@tabler/icons-react/icons/IconSearch';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '@/lib/api-client';
import type { DedupPreview } from '../../api/dedup';

export interface DedupCheckProps {
  /** Saves the draft and asks the api which record the sample matches. */
  run: () => Promise<DedupPreview>;
  label: (field: string) => string;
  /** The target entity's caption (`Контакт`). */
  entity: string;
  disabled?: boolean;
}

/** «Проверить на примере»: which existing record the sample would match right now, and by which group. */
export function DedupCheck({ run, label, entity, disabled }: DedupCheckProps) {
  const { t } = useTranslation();
  const [result, setResult] = useState<DedupPreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // The api's words in the user's language by its stable code; its English message otherwise.
  const errorText = (e: unknown) =>
    e instanceof ApiError ? t(`dedup.previewError.${e.code}`, { defaultValue: e.message || e.code }) : e instanceof Error ? e.message : String(e);

  const check = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await run());
    } catch (e) {
      setResult(null);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Stack gap="xs">
      <Group gap="sm">
        <Button variant="default" size="xs" leftSection={<IconSearch size={14} />} loading={busy} disabled={disabled} onClick={() => void check()} data-testid="dedup-check">
          {t('dedup.check')}
        </Button>
        <Text size="xs" c="dimmed">
          {t('dedup.checkHelp')}
        </Text>
      </Group>
      {error && (
        <Alert color="red" role="alert" data-testid="dedup-check-error">
          {error}
        </Alert>
      )}
      {result && <CheckResult result={result} label={label} entity={entity} />}
    </Stack>
  );
}

function CheckResult({ result, label, entity }: { result: DedupPreview; label: (f: string) => string; entity: string }) {
  const { t } = useTranslation();
  const values = result.fields.map((f) => `${label(f)} ${String(result.values[f] ?? '')}`.trim()).join(', ');
  const found = result.group !== null && result.candidates.length > 0;
  const n = (result.group ?? 0) + 1;
  const name = (c: DedupPreview['candidates'][number]) => c.name || c.id;

  return (
    <Stack gap="xs" data-testid="dedup-check-result" data-action={result.action}>
      {result.phone_search === 'exact_fallback' && (
        <Alert color="yellow" icon={<IconAlertTriangle size={18} />} title={t('dedup.exactFallbackTitle')} data-testid="dedup-exact-fallback">
          {t('dedup.exactFallback', { conversion: t('conversions.phone_e164_ru') })}
        </Alert>
      )}
      {found && result.candidates.length === 1 && <Text size="sm">{t('dedup.foundBy', { n, values, entity, name: name(result.candidates[0]!) })}</Text>}
      {found && result.candidates.length > 1 && (
        <>
          <Text size="sm">{t('dedup.foundSeveral', { n, values, count: result.candidates.length })}</Text>
          <List size="sm">
            {result.candidates.map((c) => (
              <List.Item key={c.id}>
                {entity} {name(c)}
              </List.Item>
            ))}
          </List>
        </>
      )}
      {result.errors.length > 0 && (
        // The example's own mapping problems: the search used what could be mapped.
        <Alert color="orange" title={t('dedup.mappingProblems')} data-testid="dedup-check-errors">
          <List size="sm">
            {result.errors.map((e) => (
              <List.Item key={e.field}>
                {label(e.field)}: {e.message}
              </List.Item>
            ))}
          </List>
        </Alert>
      )}
      <Text size="sm" fw={600}>
        {!found && result.action === 'skip' ? t('dedup.notFound') : t(`dedup.action.${result.action}`)}
      </Text>
    </Stack>
  );
}
