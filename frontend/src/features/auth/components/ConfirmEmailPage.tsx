import { Alert, Anchor, Center, Loader, Stack, Text } from '@mantine/core';
import IconAlertCircle from '@tabler/icons-react/icons/IconAlertCircle';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { errorMessage } from '@/components/ErrorState';
import { isApiError } from '@/lib/api-client';
import { useConfirmEmail } from '../api';
import { AuthLayout } from './AuthLayout';

/** The link from the sign-up e-mail: confirms the address, signs in, opens the dashboard. */
export function ConfirmEmailPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const token = useSearchParams()[0].get('token') ?? '';
  const confirm = useConfirmEmail();
  const { mutate } = confirm;
  // The token is single-use: one request per page, also under StrictMode's double effects.
  const sent = useRef(false);

  useEffect(() => {
    if (!token || sent.current) return;
    sent.current = true;
    mutate(token, { onSuccess: () => navigate('/', { replace: true }) });
  }, [token, mutate, navigate]);

  const invalid = !token || (isApiError(confirm.error, 400) && confirm.error.code === 'invalid_token');
  return (
    <AuthLayout title={t('confirm.title')}>
      {invalid ? (
        <Stack>
          <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
            {t('confirm.invalid')}
          </Alert>
          <Text size="sm" ta="center">
            <Anchor component={Link} to="/login">
              {t('account.toLogin')}
            </Anchor>
          </Text>
        </Stack>
      ) : confirm.isError ? (
        <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
          {errorMessage(confirm.error)}
        </Alert>
      ) : (
        <Center>
          <Stack align="center" gap="xs">
            <Loader aria-label={t('common.loading')} />
            <Text size="sm" c="dimmed">
              {t('confirm.working')}
            </Text>
          </Stack>
        </Center>
      )}
    </AuthLayout>
  );
}
