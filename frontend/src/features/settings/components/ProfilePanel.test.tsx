import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { notifications } from '@mantine/notifications';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Me } from '@/api/types';
import i18n from '@/i18n';
import { ME, apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { ChangePasswordForm, ProfileForm, timeZoneLabel } from './ProfilePanel';

vi.mock('@mantine/notifications', () => ({ notifications: { show: vi.fn() } }));

afterEach(() => {
  vi.unstubAllGlobals();
  vi.mocked(notifications.show).mockClear();
});

describe('ProfileForm', () => {
  it('saving Russian as the language switches the interface', async () => {
    const calls = mockApi({ 'PATCH /api/v1/auth/profile': (body) => ({ body: { ...ME, user: { ...ME.user, ...(body as object) } } }) });
    const user = userEvent.setup();
    renderWithProviders(<ProfileForm me={ME as Me} />);
    await user.click(screen.getByRole('textbox', { name: /Interface language/ }));
    await user.click(await screen.findByRole('option', { name: 'Русский' }));
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(i18n.resolvedLanguage).toBe('ru'));
    expect(calls[0]?.body).toEqual({ name: 'Anna', language: 'ru', timezone: 'Europe/Moscow' });
    expect(await screen.findByRole('button', { name: 'Сохранить' })).toBeInTheDocument();
    expect(notifications.show).toHaveBeenCalledWith(expect.objectContaining({ message: 'Профиль сохранён' }));
  });

  it('labels time zones with their offset', () => {
    expect(timeZoneLabel('Europe/Moscow', new Date('2026-07-01T00:00:00Z'))).toBe('Europe/Moscow (GMT+3)');
    expect(timeZoneLabel('UTC')).toMatch(/^UTC \(GMT/);
  });
});

describe('ChangePasswordForm', () => {
  it('a wrong current password is shown on its field', async () => {
    mockApi({
      'POST /api/v1/auth/password/change': apiError(400, 'bad_request', 'Wrong password', [{ field: 'current_password', message: 'wrong' }]),
    });
    const user = userEvent.setup();
    renderWithProviders(<ChangePasswordForm />);
    await user.type(screen.getByLabelText(/^Current password/), 'old-one-123');
    await user.type(screen.getByLabelText(/^New password/), 'a long pass phrase');
    await user.type(screen.getByLabelText(/^Repeat the password/), 'a long pass phrase');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findByText('Wrong current password')).toBeInTheDocument();
  });

  it('a weak new password is shown on the new password field', async () => {
    mockApi({
      'POST /api/v1/auth/password/change': apiError(422, 'weak_password', 'too common', [{ field: 'password', message: 'too common' }]),
    });
    const user = userEvent.setup();
    renderWithProviders(<ChangePasswordForm />);
    await user.type(screen.getByLabelText(/^Current password/), 'old-one-123');
    await user.type(screen.getByLabelText(/^New password/), 'password123');
    await user.type(screen.getByLabelText(/^Repeat the password/), 'password123');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    await screen.findByText(/This password is too easy to guess/);
    expect(screen.getByLabelText(/^New password/).closest('.mantine-PasswordInput-root')).toHaveTextContent(/too easy to guess/);
  });
});
