import { Alert, Anchor, Box, Button, Center, Group, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import IconAlertCircle from '@tabler/icons-react/icons/IconAlertCircle';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate } from 'react-router-dom';
import { Logo } from '@/components/Logo';
import { LanguageSwitch } from '@/components/LanguageSwitch';
import { isApiError } from '@/lib/api-client';
import { useLogin, useMe } from '../api';

export function LoginPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const me = useMe();
  const login = useLogin();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const form = useForm({
    initialValues: { email: '', password: '' },
    validate: {
      email: (v) => (/^\S+@\S+$/.test(v) ? null : t('login.emailInvalid')),
      password: (v) => (v ? null : t('common.required')),
    },
  });

  if (me.data) return <Navigate to={from} replace />;

  const errorText = login.error
    ? isApiError(login.error, 401) || isApiError(login.error, 400)
      ? t('login.wrong')
      : isApiError(login.error, 429)
        ? t('login.tooMany')
        : login.error.message
    : null;

  return (
    <Box mih="100vh" style={{ background: 'linear-gradient(135deg, var(--mantine-color-indigo-0), var(--mantine-color-gray-0))' }}>
      <Group justify="flex-end" p="md">
        <LanguageSwitch />
      </Group>
      <Center px="md" pb={80}>
        <Paper withBorder shadow="md" p="xl" w={400} maw="100%">
          <Stack gap="lg">
            <Stack gap={4} align="center">
              <Logo size={40} />
              <Title order={2} ta="center">
                {t('login.title')}
              </Title>
              <Text c="dimmed" size="sm" ta="center">
                {t('login.subtitle')}
              </Text>
            </Stack>
            <form
              onSubmit={form.onSubmit((values) =>
                login.mutate(values, { onSuccess: () => navigate(from, { replace: true }) }),
              )}
              noValidate
            >
              <Stack>
                {errorText && (
                  <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
                    {errorText}
                  </Alert>
                )}
                <TextInput
                  label={t('login.email')}
                  type="email"
                  autoComplete="username"
                  required
                  autoFocus
                  {...form.getInputProps('email')}
                />
                <PasswordInput
                  label={t('login.password')}
                  autoComplete="current-password"
                  required
                  {...form.getInputProps('password')}
                />
                <Button type="submit" loading={login.isPending} fullWidth>
                  {t('login.submit')}
                </Button>
              </Stack>
            </form>
            <Text size="xs" c="dimmed" ta="center">
              {t('login.hint')}{' '}
              <Anchor href="/api/docs" size="xs" target="_blank">
                {t('login.apiDocs')}
              </Anchor>
            </Text>
          </Stack>
        </Paper>
      </Center>
    </Box>
  );
}
