import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import i18n from '@/i18n';
import { ME, apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { InvitePage } from './InvitePage';

afterEach(() => vi.unstubAllGlobals());

const preview = {
  workspace_name: 'Acme',
  email: 'boris@example.com',
  role: 'editor',
  invited_by: 'Anna',
  account_exists: false,
  expires_at: '2026-12-04T10:00:00Z',
};

function renderInvite(lang: 'en' | 'ru' = 'en') {
  return renderWithProviders(
    <Routes>
      <Route path="/invite" element={<InvitePage />} />
      <Route path="/" element={<div>dashboard</div>} />
    </Routes>,
    { route: '/invite?token=tok-1', lang },
  );
}

describe('InvitePage', () => {
  it('a new account sets name and password, joins and lands in the workspace (in Russian)', async () => {
    const calls = mockApi({
      'GET /api/v1/auth/invitations/tok-1': { body: preview },
      'POST /api/v1/auth/invitations/tok-1/accept': { body: { ...ME, user: { ...ME.user, language: 'en', timezone: 'UTC' } } },
      'PATCH /api/v1/auth/profile': { body: ME },
    });
    const user = userEvent.setup();
    renderInvite('ru');
    expect(await screen.findByTestId('invitation-summary')).toHaveTextContent('Anna приглашает вас в рабочее пространство Acme с ролью Редактор.');
    expect(screen.getByDisplayValue('boris@example.com')).toHaveAttribute('readonly');
    await user.type(screen.getByLabelText(/^Имя/), 'Борис');
    await user.type(screen.getByLabelText(/^Придумайте пароль/), 'a long pass phrase');
    await user.click(screen.getByRole('button', { name: 'Присоединиться' }));
    expect(await screen.findByText('dashboard')).toBeInTheDocument();
    // The new account is created in the language it joined in.
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ password: 'a long pass phrase', name: 'Борис', language: 'ru' });
    expect(i18n.resolvedLanguage).toBe('ru');
  });

  it('an existing account only gives its password; a wrong one is shown on the field', async () => {
    mockApi({
      'GET /api/v1/auth/invitations/tok-1': { body: { ...preview, account_exists: true } },
      'POST /api/v1/auth/invitations/tok-1/accept': apiError(401, 'unauthorized', 'Wrong password'),
    });
    const user = userEvent.setup();
    renderInvite();
    expect(await screen.findByText(/You already have an account/)).toBeInTheDocument();
    expect(screen.queryByLabelText(/^Name/)).not.toBeInTheDocument();
    await user.type(screen.getByLabelText(/^Password/), 'not-it');
    await user.click(screen.getByRole('button', { name: 'Join the workspace' }));
    expect(await screen.findByText('Wrong password')).toBeInTheDocument();
  });

  it('an invalid or expired token says so', async () => {
    mockApi({ 'GET /api/v1/auth/invitations/tok-1': apiError(400, 'invalid_token', 'invalid') });
    renderInvite();
    expect(await screen.findByRole('alert')).toHaveTextContent('This invitation is invalid, already used, revoked or expired.');
  });
});
