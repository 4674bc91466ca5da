import { Alert, Anchor, Button, Group, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import IconAlertCircle from '@tabler/icons-react/icons/IconAlertCircle';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { isApiError } from '@/lib/api-client';
import { isEmail } from '@/lib/validation';
import { useAuthConfig, useLogin, useMe } from '../api';
import { AuthLayout } from './AuthLayout';

export function LoginPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const me = useMe();
  const config = useAuthConfig();
  const login = useLogin();
  const state = location.state as { from?: string; notice?: string } | null;
  const from = state?.from ?? '/';
  const form = useForm({
    initialValues: { email: '', password: '' },
    validate: {
      email: (v) => (isEmail(v) ? null : t('login.emailInvalid')),
      password: (v) => (v ? null : t('common.required')),
    },
  });

  if (me.data) return <Navigate to={from} replace />;

  const errorText = login.error
    ? isApiError(login.error, 403) && login.error.code === 'email_not_confirmed'
      ? t('login.notConfirmed')
      : isApiError(login.error, 401) || isApiError(login.error, 400)
        ? t('login.wrong')
        : isApiError(login.error, 429)
          ? t('login.tooMany')
          : login.error.message
    : null;

  return (
    <AuthLayout title={t('login.title')} subtitle={t('login.subtitle')}>
      <form
        onSubmit={form.onSubmit((values) => login.mutate(values, { onSuccess: () => navigate(from, { replace: true }) }))}
        noValidate
      >
        <Stack>
          {state?.notice === 'password-reset' && !errorText && (
            <Alert color="teal" role="status">
              {t('reset.done')}
            </Alert>
          )}
          {errorText && (
            <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
              {errorText}
            </Alert>
          )}
          <TextInput label={t('login.email')} type="email" autoComplete="username" required autoFocus {...form.getInputProps('email')} />
          <PasswordInput label={t('login.password')} autoComplete="current-password" required {...form.getInputProps('password')} />
          <Group justify="flex-end" mt={-8}>
            <Anchor component={Link} to="/forgot-password" size="sm">
              {t('login.forgot')}
            </Anchor>
          </Group>
          <Button type="submit" loading={login.isPending} fullWidth>
            {t('login.submit')}
          </Button>
        </Stack>
      </form>
      {config.data?.signup === 'open' && (
        <Text size="sm" ta="center">
          {t('login.noAccount')}{' '}
          <Anchor component={Link} to="/signup" fw={500}>
            {t('login.signup')}
          </Anchor>
        </Text>
      )}
      {/* Without open sign-up an account comes from the administrator: an invitation, or (closed) made by them. */}
      {(config.data?.signup === 'invite' || config.data?.signup === 'closed') && (
        <Text size="sm" ta="center" data-testid="login-ask-admin">
          {t(config.data.signup === 'invite' ? 'loginAccess.askAdmin' : 'loginAccess.signupClosed')}
        </Text>
      )}
      <Text size="xs" c="dimmed" ta="center">
        {t('login.hint')}{' '}
        <Anchor href="/api/docs" size="xs" target="_blank">
          {t('login.apiDocs')}
        </Anchor>
      </Text>
    </AuthLayout>
  );
}
