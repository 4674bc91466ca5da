import { Alert, Button, Group, NumberInput, Stack, Text } from '@mantine/core';
import IconAlertTriangle from '@tabler/icons-react/icons/IconAlertTriangle';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Bundle } from '@/api/types';
import { ApiError } from '@/lib/api-client';
import { useSetWebhookLimit } from '../api';

/** The api's bounds of a webhook URL's own limit (bpmlink/hook_limits.py). */
export const WEBHOOK_LIMIT_MIN = 60;
export const WEBHOOK_LIMIT_MAX = 600_000;
const FIELD = 'webhook_rate_per_minute';

/** «N запросов отклонено: превышен лимит» when the gateway refused requests in the last 24 hours. */
export function RateLimitedWarning({ count, compact = false }: { count: number; compact?: boolean }) {
  const { t } = useTranslation();
  if (count <= 0) return null;
  const text = t('limits.refused', { count });
  return compact ? (
    <Text size="xs" c="orange.8" data-testid="rate-limited">
      {text}
    </Text>
  ) : (
    <Alert color="orange" icon={<IconAlertTriangle size={16} />} data-testid="rate-limited">
      {text}. {t('limits.refusedHelp')}
    </Alert>
  );
}

/** The server's refusal of the field in the reader's language (its code and params), else its words. */
function fieldError(error: unknown, t: (key: string, options?: Record<string, unknown>) => string): string | undefined {
  if (!(error instanceof ApiError)) return error ? String(error) : undefined;
  const details = Array.isArray(error.details) ? (error.details as Array<Record<string, unknown>>) : [];
  const found = details.find((d) => d.field === FIELD);
  if (!found) return error.message;
  const params = (found.params ?? {}) as Record<string, unknown>;
  return t(`limits.${String(found.code)}`, { ...params, defaultValue: String(found.message) });
}

/** A webhook bundle's request limit: its own (saved at once through the bundle update) or the default. */
export function WebhookLimitField({ bundle, readOnly = false }: { bundle: Bundle; readOnly?: boolean }) {
  const { t } = useTranslation();
  const save = useSetWebhookLimit(bundle);
  const own = bundle.webhook_rate_per_minute ?? null;
  const fallback = bundle.webhook_rate_default_per_minute ?? 0;
  const [value, setValue] = useState<number | ''>(own ?? '');
  const typed = value === '' ? null : value;
  const changed = typed !== own;
  const outOfRange = typed !== null && (typed < WEBHOOK_LIMIT_MIN || typed > WEBHOOK_LIMIT_MAX);
  const defaultText = fallback > 0 ? t('limits.default', { limit: fallback }) : t('limits.defaultNone');
  return (
    <Stack gap="xs">
      <Group align="flex-end" gap="xs">
        <NumberInput
          label={t('limits.label')}
          description={own === null ? `${defaultText} · ${t('limits.usingDefault')}` : defaultText}
          placeholder={fallback > 0 ? String(fallback) : t('limits.noLimit')}
          suffix={` ${t('limits.perMinute')}`}
          min={WEBHOOK_LIMIT_MIN}
          max={WEBHOOK_LIMIT_MAX}
          allowDecimal={false}
          allowNegative={false}
          thousandSeparator=" "
          w={280}
          disabled={readOnly}
          value={value}
          onChange={(v) => {
            save.reset();
            setValue(typeof v === 'number' ? v : v === '' ? '' : Number(v) || '');
          }}
          error={
            outOfRange
              ? t('limits.hook_rate_out_of_range', { min: WEBHOOK_LIMIT_MIN, max: WEBHOOK_LIMIT_MAX })
              : fieldError(save.error, t)
          }
          data-testid="webhook-limit"
        />
        {!readOnly && (
          <Button size="sm" variant="light" disabled={!changed || outOfRange} loading={save.isPending} onClick={() => save.mutate(typed)}>
            {t('common.save')}
          </Button>
        )}
        {!readOnly && own !== null && (
          <Button
            size="sm"
            variant="subtle"
            color="gray"
            disabled={save.isPending}
            onClick={() => save.mutate(null, { onSuccess: () => setValue('') })}
          >
            {t('limits.useDefault')}
          </Button>
        )}
      </Group>
      <RateLimitedWarning count={bundle.rate_limited_24h ?? 0} />
    </Stack>
  );
}
