import { Alert, Anchor, Button, Checkbox, PasswordInput, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import IconAlertCircle from '@tabler/icons-react/icons/IconAlertCircle';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { isApiError } from '@/lib/api-client';
import { mapServerErrors } from '@/lib/form-errors';
import { PASSWORD_MIN_LENGTH } from '@/lib/validation';
import { useResetPassword } from '../api';
import { AuthLayout } from './AuthLayout';

export function ResetPasswordPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const token = useSearchParams()[0].get('token') ?? '';
  const reset = useResetPassword();
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm({
    initialValues: { password: '', repeat: '', revokeApiKeys: false },
    validate: {
      password: (v) => (v.length >= PASSWORD_MIN_LENGTH ? null : t('account.passwordShort', { min: PASSWORD_MIN_LENGTH })),
      repeat: (v, values) => (v === values.password ? null : t('account.passwordsDiffer')),
    },
  });

  const invalid = !token || (isApiError(reset.error, 400) && reset.error.code === 'invalid_token');
  const toLogin = (
    <Text size="sm" ta="center">
      <Anchor component={Link} to="/login">
        {t('account.toLogin')}
      </Anchor>
    </Text>
  );

  if (invalid) {
    return (
      <AuthLayout title={t('reset.title')}>
        <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
          {t('reset.invalid')}
        </Alert>
        <Text size="sm" ta="center">
          <Anchor component={Link} to="/forgot-password">
            {t('reset.again')}
          </Anchor>
        </Text>
        {toLogin}
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title={t('reset.title')} subtitle={t('reset.subtitle')}>
      <form
        onSubmit={form.onSubmit(({ password, revokeApiKeys }) => {
          setFormError(null);
          reset.mutate(
            { token, password, revoke_api_keys: revokeApiKeys },
            {
              onSuccess: () => navigate('/login', { replace: true, state: { notice: 'password-reset' } }),
              onError: (e) => {
                const { fields, rest } = mapServerErrors(e, ['password'], {}, { weak_password: t('account.weakPassword') });
                form.setErrors(fields);
                if (rest.length && !(isApiError(e, 400) && e.code === 'invalid_token')) setFormError(rest.join('\n'));
              },
            },
          );
        })}
        noValidate
      >
        <Stack>
          {formError && (
            <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
              {formError}
            </Alert>
          )}
          <PasswordInput
            label={t('reset.password')}
            description={t('account.passwordHelp', { min: PASSWORD_MIN_LENGTH })}
            autoComplete="new-password"
            required
            autoFocus
            {...form.getInputProps('password')}
          />
          <PasswordInput label={t('account.repeatPassword')} autoComplete="new-password" required {...form.getInputProps('repeat')} />
          <Checkbox
            label={t('reset.revokeApiKeys')}
            description={t('reset.revokeApiKeysHelp')}
            {...form.getInputProps('revokeApiKeys', { type: 'checkbox' })}
          />
          <Button type="submit" loading={reset.isPending} fullWidth>
            {t('reset.submit')}
          </Button>
        </Stack>
      </form>
      {toLogin}
    </AuthLayout>
  );
}
