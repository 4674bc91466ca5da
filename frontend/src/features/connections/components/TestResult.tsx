import { Alert, Text } from '@mantine/core';
import IconCircleCheck from '@tabler/icons-react/icons/IconCircleCheck';
import IconCircleX from '@tabler/icons-react/icons/IconCircleX';
import { useTranslation } from 'react-i18next';
import type { ConnectionTestResult } from '@/api/types';
import { messageText, sentence } from '@/lib/messages';

/** A test's answer: from the api (a message code with params), or made here when the request failed. */
export type TestOutcome = Pick<ConnectionTestResult, 'ok' | 'stage' | 'message'> & Partial<ConnectionTestResult>;

/** The result of a connection test, in words: what worked, or at which stage it failed and why. */
export function TestResult({ result }: { result: TestOutcome }) {
  const { t } = useTranslation();
  const stage = t(`connections.stage.${result.stage}`, { defaultValue: t('connections.stage.request') });
  const words = result.message_code
    ? sentence(messageText(t, { code: result.message_code, params: result.params, text: result.text ?? result.message }))
    : result.message;
  return (
    <Alert
      color={result.ok ? 'teal' : 'red'}
      icon={result.ok ? <IconCircleCheck size={18} /> : <IconCircleX size={18} />}
      title={result.ok ? t('connections.testOk') : t('connections.testFailed', { stage })}
      role="status"
      data-testid="connection-test-result"
      data-ok={result.ok}
    >
      <Text size="sm">{words}</Text>
      {result.remote && (
        <Text size="xs" c="dimmed" mt={4} data-testid="remote-text">
          {t('history.remote', { text: result.remote })}
        </Text>
      )}
    </Alert>
  );
}
