import { Alert, Badge, Stack, Text, Tooltip } from '@mantine/core';
import IconCircleCheck from '@tabler/icons-react/icons/IconCircleCheck';
import IconCircleX from '@tabler/icons-react/icons/IconCircleX';
import IconClockQuestion from '@tabler/icons-react/icons/IconClockQuestion';
import { useTranslation } from 'react-i18next';
import type { Connection, ConnectionTestResult } from '@/api/types';
import { formatDateTime, formatRelative } from '@/lib/format';
import { messageText, sentence } from '@/lib/messages';

/** A test's answer: from the api (a message code with params), or made here when the request failed. */
export type TestOutcome = Pick<ConnectionTestResult, 'ok' | 'stage' | 'message'> & Partial<ConnectionTestResult>;

/** What a test said, in the interface language: its message code when it has one, else its words. */
function resultText(t: ReturnType<typeof useTranslation>['t'], r: TestOutcome): string {
  const code = r.message_code ?? r.code;
  return code
    ? sentence(messageText(t, { code, params: r.params ?? {}, text: r.text ?? r.message }))
    : r.message;
}

/** `unchecked`: not tested here (the source is checked at its first poll): neither green nor red. */
const tone = (r: TestOutcome) => (r.ok ? 'teal' : r.stage === 'unchecked' ? 'gray' : 'red');

/** bpm'online's own words, labelled as such. */
function Remote({ text }: { text?: string | null }) {
  const { t } = useTranslation();
  if (!text) return null;
  return (
    <Text size="xs" c="dimmed" mt={4} data-testid="remote-text">
      {t('history.remote', { text })}
    </Text>
  );
}

/** The result of a connection test, in words: what worked, or at which stage it failed and why. */
export function TestResult({ result }: { result: TestOutcome }) {
  const { t } = useTranslation();
  const stage = t(`connections.stage.${result.stage}`, { defaultValue: t('connections.stage.request') });
  const unchecked = !result.ok && result.stage === 'unchecked';
  return (
    <Alert
      color={tone(result)}
      icon={result.ok ? <IconCircleCheck size={18} /> : unchecked ? <IconClockQuestion size={18} /> : <IconCircleX size={18} />}
      title={result.ok ? t('connections.testOk') : unchecked ? t('connections.testUnchecked') : t('connections.testFailed', { stage })}
      role="status"
      data-testid="connection-test-result"
      data-ok={result.ok}
    >
      <Text size="sm">{resultText(t, result)}</Text>
      <Remote text={result.remote} />
    </Alert>
  );
}

/** A connection's state in the list: its last test's outcome, when it ran, and the reason it failed. */
export function ConnectionState({ test }: { test: (TestOutcome & { at: string }) | Connection['last_test'] }) {
  const { t } = useTranslation();
  if (!test) {
    return (
      <Badge size="sm" variant="light" color="gray" data-testid="connection-state" data-state="never">
        {t('connections.stateNever')}
      </Badge>
    );
  }
  const state = test.ok ? 'ok' : test.stage === 'unchecked' ? 'unchecked' : 'failed';
  return (
    <Stack gap={2} align="flex-start">
      <Tooltip label={formatDateTime(test.at)}>
        <Badge size="sm" variant="light" color={tone(test)} data-testid="connection-state" data-state={state}>
          {t(`connections.state_${state}`)} · {formatRelative(test.at)}
        </Badge>
      </Tooltip>
      {state !== 'ok' && (
        <Text size="xs" c={state === 'failed' ? 'red' : 'dimmed'} maw={280} data-testid="connection-state-reason">
          {resultText(t, test)}
        </Text>
      )}
    </Stack>
  );
}
