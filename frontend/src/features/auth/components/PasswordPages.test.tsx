import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ME, apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { ConfirmEmailPage } from './ConfirmEmailPage';
import { ForgotPasswordPage } from './ForgotPasswordPage';
import { ResetPasswordPage } from './ResetPasswordPage';

afterEach(() => vi.unstubAllGlobals());

describe('ForgotPasswordPage', () => {
  it('without e-mail, tells the user to ask an owner', async () => {
    const calls = mockApi({ 'POST /api/v1/auth/password/forgot': { status: 202, body: { emailed: false } } });
    const user = userEvent.setup();
    renderWithProviders(<ForgotPasswordPage />, { route: '/forgot-password' });
    await user.type(screen.getByLabelText(/^E-mail/), 'anna@example.com');
    await user.click(screen.getByRole('button', { name: 'Send the link' }));
    expect(await screen.findByTestId('forgot-result')).toHaveTextContent('Ask an owner of your workspace for a password reset link.');
    expect(calls[0]?.body).toEqual({ email: 'anna@example.com' });
  });

  it('with e-mail, says a link went out if the address has an account', async () => {
    mockApi({ 'POST /api/v1/auth/password/forgot': { status: 202, body: { emailed: true } } });
    const user = userEvent.setup();
    renderWithProviders(<ForgotPasswordPage />, { route: '/forgot-password', lang: 'ru' });
    await user.type(screen.getByLabelText(/^Эл. почта/), 'anna@example.com');
    await user.click(screen.getByRole('button', { name: 'Отправить ссылку' }));
    expect(await screen.findByTestId('forgot-result')).toHaveTextContent('Если с этим адресом есть аккаунт, мы отправили на него ссылку');
  });
});

describe('ResetPasswordPage', () => {
  const routes = (
    <Routes>
      <Route path="/reset-password" element={<ResetPasswordPage />} />
      <Route path="/login" element={<div>login page</div>} />
    </Routes>
  );

  it('sets the new password and sends the user to sign in', async () => {
    const calls = mockApi({ 'POST /api/v1/auth/password/reset': { status: 204 } });
    const user = userEvent.setup();
    renderWithProviders(routes, { route: '/reset-password?token=abc' });
    await user.type(screen.getByLabelText(/^New password/), 'a long pass phrase');
    await user.type(screen.getByLabelText(/^Repeat the password/), 'a long pass phrase');
    await user.click(screen.getByRole('button', { name: 'Set the password' }));
    expect(await screen.findByText('login page')).toBeInTheDocument();
    expect(calls[0]?.body).toEqual({ token: 'abc', password: 'a long pass phrase', revoke_api_keys: false });
  });

  it('can also revoke the API keys', async () => {
    const calls = mockApi({ 'POST /api/v1/auth/password/reset': { status: 204 } });
    const user = userEvent.setup();
    renderWithProviders(routes, { route: '/reset-password?token=abc' });
    await user.type(screen.getByLabelText(/^New password/), 'a long pass phrase');
    await user.type(screen.getByLabelText(/^Repeat the password/), 'a long pass phrase');
    await user.click(screen.getByLabelText('Also revoke my API keys'));
    await user.click(screen.getByRole('button', { name: 'Set the password' }));
    expect(await screen.findByText('login page')).toBeInTheDocument();
    expect(calls[0]?.body).toEqual({ token: 'abc', password: 'a long pass phrase', revoke_api_keys: true });
  });

  it('checks the repeat before asking the server', async () => {
    const calls = mockApi({});
    const user = userEvent.setup();
    renderWithProviders(routes, { route: '/reset-password?token=abc' });
    await user.type(screen.getByLabelText(/^New password/), 'a long pass phrase');
    await user.type(screen.getByLabelText(/^Repeat the password/), 'a long pass phrasf');
    await user.click(screen.getByRole('button', { name: 'Set the password' }));
    expect(await screen.findByText('The passwords do not match')).toBeInTheDocument();
    expect(calls).toHaveLength(0);
  });

  it('a used or expired link says so', async () => {
    mockApi({ 'POST /api/v1/auth/password/reset': apiError(400, 'invalid_token', 'invalid') });
    const user = userEvent.setup();
    renderWithProviders(routes, { route: '/reset-password?token=abc' });
    await user.type(screen.getByLabelText(/^New password/), 'a long pass phrase');
    await user.type(screen.getByLabelText(/^Repeat the password/), 'a long pass phrase');
    await user.click(screen.getByRole('button', { name: 'Set the password' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('This reset link is invalid, already used or expired.');
    expect(screen.getByRole('link', { name: 'Request a new link' })).toHaveAttribute('href', '/forgot-password');
  });
});

describe('ConfirmEmailPage', () => {
  const routes = (
    <Routes>
      <Route path="/confirm-email" element={<ConfirmEmailPage />} />
      <Route path="/" element={<div>dashboard</div>} />
    </Routes>
  );

  it('confirms once, signs in and opens the dashboard', async () => {
    const calls = mockApi({ 'POST /api/v1/auth/confirm': { body: ME }, 'PATCH /api/v1/auth/profile': { body: ME } });
    renderWithProviders(routes, { route: '/confirm-email?token=t1' });
    expect(await screen.findByText('dashboard')).toBeInTheDocument();
    expect(calls.filter((c) => c.path === '/api/v1/auth/confirm')).toEqual([{ method: 'POST', path: '/api/v1/auth/confirm', body: { token: 't1' } }]);
  });

  it('an expired token says so', async () => {
    mockApi({ 'POST /api/v1/auth/confirm': apiError(400, 'invalid_token', 'expired') });
    renderWithProviders(routes, { route: '/confirm-email?token=t1', lang: 'ru' });
    expect(await screen.findByRole('alert')).toHaveTextContent('Ссылка для подтверждения недействительна, уже использована или устарела.');
  });
});
