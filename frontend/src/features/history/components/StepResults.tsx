import { Badge, Code, Group, Paper, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { CodedMessage, StepResult, StepResultKind } from '@/api/types';
import { messageText } from '@/lib/messages';

const COLOR: Record<StepResultKind, string> = {
  found: 'blue',
  created: 'teal',
  updated: 'cyan',
  unchanged: 'gray',
  skipped: 'gray',
  not_found: 'yellow',
  ran: 'teal',
  not_run: 'gray',
  failed: 'red',
  started: 'orange',
};

/** bpm'online's own words, labelled as such (they are not ours, and not translated). */
export function RemoteText({ text }: { text?: string | null }) {
  const { t } = useTranslation();
  if (!text) return null;
  return (
    <Text size="xs" c="dimmed" style={{ whiteSpace: 'pre-wrap' }} data-testid="remote-text">
      {t('history.remote', { text })}
    </Text>
  );
}

function MessageView({ message, color, testId }: { message: CodedMessage; color?: string; testId: string }) {
  const { t } = useTranslation();
  return (
    <Stack gap={2}>
      <Text size="sm" c={color} fw={color ? 500 : undefined} data-testid={testId} data-code={message.code}>
        {messageText(t, message)}
      </Text>
      <RemoteText text={message.remote} />
    </Stack>
  );
}

/** What each bundle step did for the event: its result in words, the record, its error or note. */
export function StepResults({ results, names }: { results: StepResult[]; names?: Record<string, string> }) {
  const { t } = useTranslation();
  return (
    <Stack gap="xs" data-testid="step-results">
      {results.map((r, i) => (
        <Paper key={r.key} withBorder p="sm" data-testid="step-result" data-key={r.key} data-result={r.result} style={{ borderColor: r.result === 'failed' ? 'var(--mantine-color-red-4)' : undefined }}>
          <Group gap="xs" wrap="wrap">
            <Badge size="sm" variant="outline" color="gray" circle>
              {i + 1}
            </Badge>
            <Text size="sm" fw={600}>
              {names?.[r.key] || r.key}
            </Text>
            <Text size="xs" c="dimmed">
              {t(`steps.action.${r.action}.title`, { defaultValue: r.action })}
              {r.entity ? ` · ${r.entity}` : ''}
            </Text>
            <Badge size="sm" color={COLOR[r.result] ?? 'gray'} variant="light" data-testid="step-result-badge">
              {t(`steps.result.${r.result}`, { defaultValue: r.result })}
            </Badge>
          </Group>
          {r.record_id && (
            <Text size="xs" c="dimmed" mt={4}>
              {t('history.stepRecord', { entity: r.entity ?? '' })}: <Code>{r.record_id}</Code>
            </Text>
          )}
          {r.error && <MessageView message={r.error} color="red" testId="step-result-error" />}
          {r.note && <MessageView message={r.note} testId="step-result-note" />}
          {(r.elements ?? []).length > 0 && (
            <Stack gap={2} mt={4}>
              {r.elements!.map((e) => (
                <Group key={e.index} gap="xs" wrap="nowrap">
                  <Text size="xs" c="dimmed">
                    {t('history.element', { n: e.index + 1 })}
                  </Text>
                  <Badge size="xs" color={COLOR[e.result] ?? 'gray'} variant="light">
                    {t(`steps.result.${e.result}`, { defaultValue: e.result })}
                  </Badge>
                  {e.record_id && <Code fz="xs">{e.record_id}</Code>}
                  {e.error && (
                    <Text size="xs" c="red">
                      {messageText(t, e.error)}
                    </Text>
                  )}
                </Group>
              ))}
            </Stack>
          )}
        </Paper>
      ))}
    </Stack>
  );
}
