import { Alert, Anchor, Button, PasswordInput, Skeleton, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import IconAlertCircle from '@tabler/icons-react/icons/IconAlertCircle';
import IconMailCheck from '@tabler/icons-react/icons/IconMailCheck';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useNavigate } from 'react-router-dom';
import { ErrorState } from '@/components/ErrorState';
import { isApiError } from '@/lib/api-client';
import { mapServerErrors } from '@/lib/form-errors';
import { PASSWORD_MIN_LENGTH, isEmail } from '@/lib/validation';
import { useAuthConfig, useMe, useSignup } from '../api';
import { AuthLayout } from './AuthLayout';

const FIELDS = ['email', 'password', 'name', 'workspace_name'] as const;

export function SignupPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const me = useMe();
  const config = useAuthConfig();
  const signup = useSignup();
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [closed, setClosed] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm({
    initialValues: { email: '', password: '', name: '', workspace_name: '' },
    validate: {
      email: (v) => (isEmail(v) ? null : t('login.emailInvalid')),
      password: (v) => (v.length >= PASSWORD_MIN_LENGTH ? null : t('account.passwordShort', { min: PASSWORD_MIN_LENGTH })),
    },
  });

  if (me.data) return <Navigate to="/" replace />;

  const footer = (
    <Text size="sm" ta="center">
      {t('signup.haveAccount')}{' '}
      <Anchor component={Link} to="/login" fw={500}>
        {t('login.submit')}
      </Anchor>
    </Text>
  );

  if (sentTo) {
    return (
      <AuthLayout title={t('signup.checkEmailTitle')}>
        <Alert color="teal" icon={<IconMailCheck size={18} />} role="status" data-testid="signup-check-email">
          {t('signup.checkEmail', { email: sentTo })}
        </Alert>
        {footer}
      </AuthLayout>
    );
  }

  const mode = closed ? 'closed' : config.data?.signup;
  if (mode && mode !== 'open') {
    return (
      <AuthLayout title={t('signup.title')}>
        <Alert color="yellow" icon={<IconAlertCircle size={18} />} role="status" data-testid="signup-not-open">
          {mode === 'invite' ? t('signup.inviteOnly') : t('signup.closed')}
        </Alert>
        {footer}
      </AuthLayout>
    );
  }

  const submit = form.onSubmit((values) => {
    setFormError(null);
    signup.mutate(
      {
        email: values.email.trim(),
        password: values.password,
        name: values.name.trim(),
        workspace_name: values.workspace_name.trim() || undefined,
      },
      {
        onSuccess: (result) => {
          if (result.confirmation_required) setSentTo(values.email.trim());
          else navigate('/', { replace: true });
        },
        onError: (e) => {
          if (isApiError(e, 403) && e.code === 'signup_closed') {
            setClosed(true);
            return;
          }
          const { fields, rest } = mapServerErrors(e, FIELDS, {}, { weak_password: t('account.weakPassword') });
          // The sign-up answers alike for a taken address; without e-mail confirmation the sign-in after it fails.
          if (isApiError(e, 401)) fields.email = t('signup.emailTaken');
          else if (rest.length) setFormError(rest.join('\n'));
          form.setErrors(fields);
        },
      },
    );
  });

  return (
    <AuthLayout title={t('signup.title')} subtitle={t('signup.subtitle')} width={440}>
      {config.isError && <ErrorState error={config.error} onRetry={() => void config.refetch()} />}
      {config.isPending ? (
        <Skeleton h={280} />
      ) : (
        <form onSubmit={submit} noValidate>
          <Stack>
            {formError && (
              <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
                {formError}
              </Alert>
            )}
            <TextInput label={t('login.email')} type="email" autoComplete="email" required autoFocus {...form.getInputProps('email')} />
            <PasswordInput
              label={t('login.password')}
              description={t('account.passwordHelp', { min: PASSWORD_MIN_LENGTH })}
              autoComplete="new-password"
              required
              {...form.getInputProps('password')}
            />
            <TextInput label={t('account.name')} autoComplete="name" {...form.getInputProps('name')} />
            <TextInput
              label={t('signup.workspaceName')}
              description={t('signup.workspaceNameHelp')}
              autoComplete="organization"
              {...form.getInputProps('workspace_name')}
            />
            <Button type="submit" loading={signup.isPending} fullWidth>
              {t('signup.submit')}
            </Button>
          </Stack>
        </form>
      )}
      {footer}
    </AuthLayout>
  );
}
