import { Button, Card, Group, PasswordInput, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Language, Me } from '@/api/types';
import { useChangePassword, useMe, useUpdateProfile } from '@/features/auth/api';
import { isApiError } from '@/lib/api-client';
import { isValidTimeZone, timeZones } from '@/lib/format';
import { mapServerErrors } from '@/lib/form-errors';
import { PASSWORD_MIN_LENGTH } from '@/lib/validation';

/** Languages by their own names, so each is recognisable whatever the interface language. */
const LANGUAGE_NAMES: Record<Language, string> = { ru: 'Русский', en: 'English' };

/** "Europe/Moscow (GMT+3)": the zone with its current offset. */
export function timeZoneLabel(tz: string, at = new Date()): string {
  try {
    const part = new Intl.DateTimeFormat('en', { timeZone: tz, timeZoneName: 'shortOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName');
    return part ? `${tz} (${part.value})` : tz;
  } catch {
    return tz;
  }
}

export function ProfilePanel() {
  const { data: me } = useMe();
  if (!me) return null;
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
      <ProfileForm me={me} />
      <ChangePasswordForm />
    </SimpleGrid>
  );
}

export function ProfileForm({ me }: { me: Me }) {
  const { t, i18n } = useTranslation();
  const update = useUpdateProfile();
  const form = useForm({
    initialValues: { name: me.user.name, language: me.user.language, timezone: me.user.timezone || 'UTC' },
    validate: { timezone: (v) => (v && isValidTimeZone(v) ? null : t('profile.timezoneInvalid')) },
  });
  const zones = useMemo(() => {
    const list = timeZones();
    if (me.user.timezone && !list.includes(me.user.timezone)) list.unshift(me.user.timezone);
    const now = new Date();
    return list.map((tz) => ({ value: tz, label: timeZoneLabel(tz, now) }));
  }, [me.user.timezone]);

  return (
    <Card>
      <form
        onSubmit={form.onSubmit((values) =>
          update.mutate(
            { name: values.name.trim(), language: values.language, timezone: values.timezone },
            {
              onSuccess: (saved) => {
                form.resetDirty({ name: saved.user.name, language: saved.user.language, timezone: saved.user.timezone });
                // In the language just saved: this render's `t` is still bound to the old one.
                notifications.show({ color: 'teal', message: i18n.t('profile.saved') });
              },
              onError: (e) => {
                const { fields, rest } = mapServerErrors(e, ['name', 'language', 'timezone']);
                form.setErrors(fields);
                if (rest.length) notifications.show({ color: 'red', message: rest.join('\n') });
              },
            },
          ),
        )}
      >
        <Stack>
          <Title order={4}>{t('profile.title')}</Title>
          <TextInput label={t('login.email')} value={me.user.email} readOnly variant="filled" />
          <TextInput label={t('account.name')} autoComplete="name" {...form.getInputProps('name')} />
          <Select
            label={t('profile.language')}
            description={t('profile.languageHelp')}
            data={(Object.keys(LANGUAGE_NAMES) as Language[]).map((l) => ({ value: l, label: LANGUAGE_NAMES[l] }))}
            allowDeselect={false}
            {...form.getInputProps('language')}
          />
          <Select
            label={t('profile.timezone')}
            description={t('profile.timezoneHelp')}
            data={zones}
            searchable
            allowDeselect={false}
            nothingFoundMessage={t('common.nothingFound')}
            maxDropdownHeight={280}
            {...form.getInputProps('timezone')}
          />
          <Group justify="flex-end">
            <Button type="submit" loading={update.isPending}>
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

export function ChangePasswordForm() {
  const { t } = useTranslation();
  const change = useChangePassword();
  const form = useForm({
    initialValues: { current_password: '', new_password: '', repeat: '' },
    validate: {
      current_password: (v) => (v ? null : t('common.required')),
      new_password: (v) => (v.length >= PASSWORD_MIN_LENGTH ? null : t('account.passwordShort', { min: PASSWORD_MIN_LENGTH })),
      repeat: (v, values) => (v === values.new_password ? null : t('account.passwordsDiffer')),
    },
  });

  return (
    <Card>
      <form
        onSubmit={form.onSubmit(({ current_password, new_password }) =>
          change.mutate(
            { current_password, new_password },
            {
              onSuccess: () => {
                form.reset();
                notifications.show({ color: 'teal', message: t('profile.passwordChanged') });
              },
              onError: (e) => {
                const { fields, rest } = mapServerErrors(
                  e,
                  ['current_password', 'new_password'],
                  { password: 'new_password' },
                  { weak_password: t('account.weakPassword') },
                );
                // A wrong current password: the server's words are English, ours follow the UI.
                if (fields.current_password || (isApiError(e, 400) && !Object.keys(fields).length)) {
                  form.setErrors({ ...fields, current_password: t('profile.wrongCurrent') });
                  return;
                }
                form.setErrors(fields);
                if (rest.length) notifications.show({ color: 'red', message: rest.join('\n') });
              },
            },
          ),
        )}
      >
        <Stack>
          <Title order={4}>{t('profile.changePassword')}</Title>
          <Text size="sm" c="dimmed">
            {t('profile.changePasswordHelp')}
          </Text>
          <PasswordInput label={t('profile.currentPassword')} autoComplete="current-password" required {...form.getInputProps('current_password')} />
          <PasswordInput
            label={t('profile.newPassword')}
            description={t('account.passwordHelp', { min: PASSWORD_MIN_LENGTH })}
            autoComplete="new-password"
            required
            {...form.getInputProps('new_password')}
          />
          <PasswordInput label={t('account.repeatPassword')} autoComplete="new-password" required {...form.getInputProps('repeat')} />
          <Group justify="flex-end">
            <Button type="submit" loading={change.isPending}>
              {t('profile.changePasswordSubmit')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
