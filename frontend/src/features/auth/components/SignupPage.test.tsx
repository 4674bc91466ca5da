import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ME, apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { LoginPage } from './LoginPage';
import { SignupPage } from './SignupPage';

afterEach(() => vi.unstubAllGlobals());

const open = { signup: 'open', email_confirmation: false, smtp: false };

function renderSignup(lang: 'en' | 'ru' = 'en') {
  return renderWithProviders(
    <Routes>
      <Route path="/signup" element={<SignupPage />} />
      <Route path="/" element={<div>dashboard</div>} />
    </Routes>,
    { route: '/signup', lang },
  );
}

async function fill(user: ReturnType<typeof userEvent.setup>, password = 'correct horse battery') {
  await user.type(screen.getByLabelText(/^E-mail/), 'anna@example.com');
  await user.type(screen.getByLabelText(/^Password/), password);
  await user.type(screen.getByLabelText(/^Name/), 'Anna');
  await user.type(screen.getByLabelText(/^Workspace name/), 'Acme');
  await user.click(screen.getByRole('button', { name: 'Create account' }));
}

describe('SignupPage', () => {
  it('says so when sign-up is by invitation only', async () => {
    mockApi({ 'GET /api/v1/auth/config': { body: { ...open, signup: 'invite' } }, 'GET /api/v1/auth/me': apiError(401, 'unauthorized', 'no') });
    renderSignup();
    expect(await screen.findByTestId('signup-not-open')).toHaveTextContent('by invitation only');
    expect(screen.queryByRole('button', { name: 'Create account' })).not.toBeInTheDocument();
  });

  it('without e-mail confirmation signs the new user in and opens the dashboard', async () => {
    let signedIn = false;
    const calls = mockApi({
      'GET /api/v1/auth/config': { body: open },
      'GET /api/v1/auth/me': () => (signedIn ? { body: ME } : apiError(401, 'unauthorized', 'no')),
      'POST /api/v1/auth/signup': { status: 201, body: { confirmation_required: false } },
      'POST /api/v1/auth/login': () => {
        signedIn = true;
        return { body: ME };
      },
      'PATCH /api/v1/auth/profile': { body: ME },
    });
    const user = userEvent.setup();
    renderSignup();
    await screen.findByLabelText(/^Workspace name/);
    await fill(user);
    expect(await screen.findByText('dashboard')).toBeInTheDocument();
    const signup = calls.find((c) => c.path === '/api/v1/auth/signup');
    expect(signup?.body).toEqual({ email: 'anna@example.com', password: 'correct horse battery', name: 'Anna', workspace_name: 'Acme', language: 'en' });
    expect(calls.find((c) => c.path === '/api/v1/auth/login')?.body).toEqual({
      email: 'anna@example.com',
      password: 'correct horse battery',
      language: 'en',
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
  });

  it('with e-mail confirmation asks to check the mailbox', async () => {
    mockApi({
      'GET /api/v1/auth/config': { body: { ...open, email_confirmation: true, smtp: true } },
      'GET /api/v1/auth/me': apiError(401, 'unauthorized', 'no'),
      'POST /api/v1/auth/signup': { status: 201, body: { confirmation_required: true } },
    });
    const user = userEvent.setup();
    renderSignup();
    await screen.findByLabelText(/^Workspace name/);
    await fill(user);
    expect(await screen.findByTestId('signup-check-email')).toHaveTextContent('We sent a confirmation link to anna@example.com');
  });

  it('shows a weak password on the password field, in Russian', async () => {
    mockApi({
      'GET /api/v1/auth/config': { body: open },
      'GET /api/v1/auth/me': apiError(401, 'unauthorized', 'no'),
      'POST /api/v1/auth/signup': apiError(422, 'weak_password', 'too common', [{ field: 'password', message: 'This password is too common.' }]),
    });
    const user = userEvent.setup();
    renderSignup('ru');
    await user.type(await screen.findByLabelText(/^Эл. почта/), 'anna@example.com');
    await user.type(screen.getByLabelText(/^Пароль/), 'password1');
    await user.click(screen.getByRole('button', { name: 'Зарегистрироваться' }));
    await screen.findByText(/Этот пароль легко подобрать/);
    // On the field itself, not in a general alert.
    expect(screen.getByLabelText(/^Пароль/).closest('.mantine-PasswordInput-root')).toHaveTextContent(/Этот пароль легко подобрать/);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('an e-mail already registered (the sign-in after the sign-up fails) is an error on the e-mail field', async () => {
    mockApi({
      'GET /api/v1/auth/config': { body: open },
      'GET /api/v1/auth/me': apiError(401, 'unauthorized', 'no'),
      'POST /api/v1/auth/signup': { status: 201, body: { confirmation_required: false } },
      'POST /api/v1/auth/login': apiError(401, 'unauthorized', 'invalid email or password'),
    });
    const user = userEvent.setup();
    renderSignup();
    await screen.findByLabelText(/^Workspace name/);
    await fill(user);
    expect(await screen.findByText(/An account with this e-mail may already exist/)).toBeInTheDocument();
  });
});

describe('LoginPage', () => {
  it('offers sign-up only when it is open, and always the password reset', async () => {
    mockApi({ 'GET /api/v1/auth/config': { body: open }, 'GET /api/v1/auth/me': apiError(401, 'unauthorized', 'no') });
    renderWithProviders(<LoginPage />, { route: '/login' });
    expect(await screen.findByRole('link', { name: 'Create account' })).toHaveAttribute('href', '/signup');
    expect(screen.getByRole('link', { name: 'Forgot password?' })).toHaveAttribute('href', '/forgot-password');
  });

  it('hides sign-up when it is by invitation', async () => {
    mockApi({ 'GET /api/v1/auth/config': { body: { ...open, signup: 'invite' } }, 'GET /api/v1/auth/me': apiError(401, 'unauthorized', 'no') });
    renderWithProviders(<LoginPage />, { route: '/login' });
    await screen.findByRole('link', { name: 'Forgot password?' });
    await waitFor(() => expect(screen.queryByRole('link', { name: 'Create account' })).not.toBeInTheDocument());
  });
});
