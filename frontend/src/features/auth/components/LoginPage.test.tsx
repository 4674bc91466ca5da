import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import i18n, { LANGUAGE_STORAGE_KEY, currentLanguage } from '@/i18n';
import { ME, apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { LoginPage } from './LoginPage';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const config = (signup: 'open' | 'invite' | 'closed') => ({ signup, email_confirmation: false, smtp: false });

function renderLogin(lang: 'en' | 'ru') {
  return renderWithProviders(
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/" element={<div>dashboard</div>} />
    </Routes>,
    { route: '/login', lang },
  );
}

async function signIn() {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText(/^(E-mail|Эл. почта)/), 'anna@example.com');
  await user.type(screen.getByLabelText(/^(Password|Пароль)/), 'correct horse battery');
  await user.click(screen.getByRole('button', { name: /^(Sign in|Войти)$/ }));
}

describe('the login page language', () => {
  it('a ru-RU browser with nothing stored starts the interface in Russian, an en-US one in English', async () => {
    const detect = async (languages: [string, ...string[]]) => {
      window.localStorage.removeItem(LANGUAGE_STORAGE_KEY);
      vi.spyOn(window.navigator, 'languages', 'get').mockReturnValue(languages);
      vi.spyOn(window.navigator, 'language', 'get').mockReturnValue(languages[0]);
      await i18n.changeLanguage(); // no language given: i18next detects it, as on a page load
      return [currentLanguage(), document.documentElement.lang.slice(0, 2)];
    };
    expect(await detect(['ru-RU', 'ru'])).toEqual(['ru', 'ru']);
    expect(await detect(['en-US', 'en'])).toEqual(['en', 'en']);
    expect(await detect(['de-DE'])).toEqual(['en', 'en']);
    // A language picked on the page (stored) wins over the browser's.
    window.localStorage.setItem(LANGUAGE_STORAGE_KEY, 'en');
    vi.spyOn(window.navigator, 'languages', 'get').mockReturnValue(['ru-RU']);
    await i18n.changeLanguage();
    expect(currentLanguage()).toBe('en');
    window.localStorage.removeItem(LANGUAGE_STORAGE_KEY);
  });

  it('is Russian in Russian and, with sign-up by invitation, says to ask the administrator', async () => {
    mockApi({ 'GET /api/v1/auth/config': { body: config('invite') }, 'GET /api/v1/auth/me': apiError(401, 'unauthorized', 'no') });
    renderLogin('ru');
    expect(await screen.findByTestId('login-ask-admin')).toHaveTextContent('Попросите приглашение у администратора');
    expect(screen.getByRole('button', { name: 'Войти' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Создать аккаунт' })).not.toBeInTheDocument();
  });

  it('with sign-up closed says the administrator creates accounts; with it open, links to sign-up instead', async () => {
    mockApi({ 'GET /api/v1/auth/config': { body: config('closed') }, 'GET /api/v1/auth/me': apiError(401, 'unauthorized', 'no') });
    const { unmount } = renderLogin('en');
    expect(await screen.findByTestId('login-ask-admin')).toHaveTextContent('created by its administrator');
    unmount();
    mockApi({ 'GET /api/v1/auth/config': { body: config('open') }, 'GET /api/v1/auth/me': apiError(401, 'unauthorized', 'no') });
    renderLogin('en');
    expect(await screen.findByRole('link', { name: 'Create account' })).toHaveAttribute('href', '/signup');
    expect(screen.queryByTestId('login-ask-admin')).not.toBeInTheDocument();
  });

  it("sends the page's language and the browser's time zone, then follows the profile's language", async () => {
    let signedIn = false;
    const calls = mockApi({
      'GET /api/v1/auth/config': { body: config('invite') },
      'GET /api/v1/auth/me': () => (signedIn ? { body: { ...ME, user: { ...ME.user, language: 'en' } } } : apiError(401, 'unauthorized', 'no')),
      'POST /api/v1/auth/login': () => {
        signedIn = true;
        return { body: ME };
      },
    });
    renderLogin('ru');
    await signIn();
    expect(await screen.findByText('dashboard')).toBeInTheDocument();
    expect(calls.find((c) => c.path === '/api/v1/auth/login')?.body).toEqual({
      email: 'anna@example.com',
      password: 'correct horse battery',
      language: 'ru',
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
    // The profile says English (chosen there once): it wins over the Russian the page was in.
    expect(i18n.language).toBe('en');
  });
});
