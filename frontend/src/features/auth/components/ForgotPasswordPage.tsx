import { Alert, Anchor, Button, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import IconAlertCircle from '@tabler/icons-react/icons/IconAlertCircle';
import IconMailCheck from '@tabler/icons-react/icons/IconMailCheck';
import IconUserQuestion from '@tabler/icons-react/icons/IconUserQuestion';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { errorMessage } from '@/components/ErrorState';
import { isEmail } from '@/lib/validation';
import { useForgotPassword } from '../api';
import { AuthLayout } from './AuthLayout';

export function ForgotPasswordPage() {
  const { t } = useTranslation();
  const forgot = useForgotPassword();
  const form = useForm({
    initialValues: { email: '' },
    validate: { email: (v) => (isEmail(v) ? null : t('login.emailInvalid')) },
  });

  const back = (
    <Text size="sm" ta="center">
      <Anchor component={Link} to="/login">
        {t('account.toLogin')}
      </Anchor>
    </Text>
  );

  if (forgot.data) {
    return (
      <AuthLayout title={t('forgot.title')}>
        {forgot.data.emailed ? (
          <Alert color="teal" icon={<IconMailCheck size={18} />} role="status" data-testid="forgot-result">
            {t('forgot.sent')}
          </Alert>
        ) : (
          <Alert color="blue" icon={<IconUserQuestion size={18} />} role="status" data-testid="forgot-result">
            {t('forgot.askOwner')}
          </Alert>
        )}
        {back}
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title={t('forgot.title')} subtitle={t('forgot.subtitle')}>
      <form onSubmit={form.onSubmit(({ email }) => forgot.mutate(email.trim()))} noValidate>
        <Stack>
          {forgot.isError && (
            <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
              {errorMessage(forgot.error)}
            </Alert>
          )}
          <TextInput label={t('login.email')} type="email" autoComplete="username" required autoFocus {...form.getInputProps('email')} />
          <Button type="submit" loading={forgot.isPending} fullWidth>
            {t('forgot.submit')}
          </Button>
        </Stack>
      </form>
      {back}
    </AuthLayout>
  );
}
