import { Alert, Text } from '@mantine/core';
import IconCircleCheck from '@tabler/icons-react/icons/IconCircleCheck';
import IconCircleX from '@tabler/icons-react/icons/IconCircleX';
import { useTranslation } from 'react-i18next';
import type { ConnectionTestResult } from '@/api/types';

/** The result of a connection test, in words: what worked, or at which stage it failed and why. */
export function TestResult({ result }: { result: ConnectionTestResult }) {
  const { t } = useTranslation();
  const stage = t(`connections.stage.${result.stage}`, { defaultValue: result.stage });
  return (
    <Alert
      color={result.ok ? 'teal' : 'red'}
      icon={result.ok ? <IconCircleCheck size={18} /> : <IconCircleX size={18} />}
      title={result.ok ? t('connections.testOk') : t('connections.testFailed', { stage })}
      role="status"
      data-testid="connection-test-result"
      data-ok={result.ok}
    >
      <Text size="sm">{result.message}</Text>
    </Alert>
  );
}
