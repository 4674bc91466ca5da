import { Alert, Button, Group, Text } from '@mantine/core';
import IconAlertTriangle from '@tabler/icons-react/icons/IconAlertTriangle';
import { useTranslation } from 'react-i18next';
import { ApiError } from '@/lib/api-client';

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message || error.code;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const notYet = error instanceof ApiError && (error.status === 404 || error.status === 405);
  return (
    <Alert color={notYet ? 'yellow' : 'red'} icon={<IconAlertTriangle size={18} />} title={t('common.loadError')} role="alert">
      <Text size="sm">{notYet ? t('common.notAvailable') : errorMessage(error)}</Text>
      {onRetry && (
        <Group mt="sm">
          <Button size="xs" variant="light" color={notYet ? 'yellow' : 'red'} onClick={onRetry}>
            {t('common.retry')}
          </Button>
        </Group>
      )}
    </Alert>
  );
}
