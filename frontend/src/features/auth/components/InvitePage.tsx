import { Alert, Anchor, Button, PasswordInput, Skeleton, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import IconAlertCircle from '@tabler/icons-react/icons/IconAlertCircle';
import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import type { InvitationPreview } from '@/api/types';
import { ErrorState } from '@/components/ErrorState';
import { isApiError } from '@/lib/api-client';
import { formatDateTime } from '@/lib/format';
import { mapServerErrors } from '@/lib/form-errors';
import { PASSWORD_MIN_LENGTH } from '@/lib/validation';
import { useAcceptInvitation, useInvitationPreview } from '../api';
import { AuthLayout } from './AuthLayout';

const isInvalidToken = (e: unknown) => isApiError(e, 400) && e.code === 'invalid_token';

/** The link from an invitation: who invites to which workspace, then a password to join. */
export function InvitePage() {
  const { t } = useTranslation();
  const token = useSearchParams()[0].get('token') ?? '';
  const preview = useInvitationPreview(token);

  if (!token || isInvalidToken(preview.error)) {
    return (
      <AuthLayout title={t('invite.title')}>
        <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
          {t('invite.invalid')}
        </Alert>
        <Text size="sm" ta="center">
          <Anchor component={Link} to="/login">
            {t('account.toLogin')}
          </Anchor>
        </Text>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title={t('invite.title')} width={440}>
      {preview.isError && <ErrorState error={preview.error} onRetry={() => void preview.refetch()} />}
      {preview.isPending && <Skeleton h={220} />}
      {preview.data && <AcceptForm token={token} invitation={preview.data} />}
    </AuthLayout>
  );
}

export function AcceptForm({ token, invitation }: { token: string; invitation: InvitationPreview }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const accept = useAcceptInvitation(token);
  const [formError, setFormError] = useState<string | null>(null);
  const newAccount = !invitation.account_exists;
  const form = useForm({
    initialValues: { name: '', password: '' },
    validate: {
      password: (v) =>
        newAccount
          ? v.length >= PASSWORD_MIN_LENGTH
            ? null
            : t('account.passwordShort', { min: PASSWORD_MIN_LENGTH })
          : v
            ? null
            : t('common.required'),
    },
  });

  const submit = form.onSubmit(({ name, password }) => {
    setFormError(null);
    accept.mutate(
      { password, name: newAccount ? name.trim() || undefined : undefined, newAccount },
      {
        onSuccess: () => navigate('/', { replace: true }),
        onError: (e) => {
          if (isApiError(e, 401)) {
            form.setErrors({ password: t('invite.wrongPassword') });
            return;
          }
          if (isInvalidToken(e)) {
            setFormError(t('invite.invalid'));
            return;
          }
          const { fields, rest } = mapServerErrors(e, ['name', 'password'], {}, { weak_password: t('account.weakPassword') });
          form.setErrors(fields);
          if (rest.length) setFormError(rest.join('\n'));
        },
      },
    );
  });

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <Text ta="center" data-testid="invitation-summary">
          <Trans
            i18nKey="invite.summary"
            values={{ inviter: invitation.invited_by, workspace: invitation.workspace_name, role: t(`roles.${invitation.role}`) }}
            components={{ b: <b /> }}
          />
        </Text>
        <Text size="xs" c="dimmed" ta="center">
          {t('invite.expires', { at: formatDateTime(invitation.expires_at) })}
        </Text>
        {formError && (
          <Alert color="red" icon={<IconAlertCircle size={18} />} role="alert">
            {formError}
          </Alert>
        )}
        <TextInput label={t('login.email')} value={invitation.email} readOnly variant="filled" autoComplete="username" />
        {newAccount ? (
          <>
            <TextInput label={t('account.name')} autoComplete="name" autoFocus {...form.getInputProps('name')} />
            <PasswordInput
              label={t('invite.newPassword')}
              description={t('account.passwordHelp', { min: PASSWORD_MIN_LENGTH })}
              autoComplete="new-password"
              required
              {...form.getInputProps('password')}
            />
          </>
        ) : (
          <>
            <Text size="sm" c="dimmed">
              {t('invite.existingAccount')}
            </Text>
            <PasswordInput label={t('login.password')} autoComplete="current-password" required autoFocus {...form.getInputProps('password')} />
          </>
        )}
        <Button type="submit" loading={accept.isPending} fullWidth>
          {t('invite.accept')}
        </Button>
      </Stack>
    </form>
  );
}
