import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ME, apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { MembersPanel } from './MembersPanel';

afterEach(() => vi.unstubAllGlobals());

const members = {
  items: [
    { id: 'u1', email: 'anna@example.com', name: 'Anna', role: 'owner' },
    { id: 'u2', email: 'boris@example.com', name: '', role: 'viewer' },
  ],
  next_cursor: null,
};
const invitation = {
  id: 'i1',
  email: 'vera@example.com',
  role: 'editor',
  created_at: '2026-11-27T10:00:00Z',
  expires_at: '2026-12-04T10:00:00Z',
  invited_by: 'Anna',
  emailed: false,
  link: 'http://127.0.0.1:8000/invite?token=secret-token',
};

function api(extra: Parameters<typeof mockApi>[0] = {}, me = ME) {
  return mockApi({
    'GET /api/v1/auth/me': { body: me },
    'GET /api/v1/auth/config': { body: { signup: 'invite', email_confirmation: false, smtp: false } },
    'GET /api/v1/users': { body: members },
    'GET /api/v1/invitations': { body: { items: [] } },
    ...extra,
  });
}

describe('MembersPanel', () => {
  it('the last owner cannot leave: the 409 is shown as a clear alert', async () => {
    api({ 'DELETE /api/v1/users/u1': apiError(409, 'last_owner', 'The workspace must keep an owner') });
    const user = userEvent.setup();
    renderWithProviders(<MembersPanel />);
    await user.click(await screen.findByRole('button', { name: 'Actions for anna@example.com' }));
    await user.click(await screen.findByRole('menuitem', { name: 'Leave the workspace' }));
    const dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Leave the workspace' }));
    const alert = await screen.findByTestId('last-owner-error');
    expect(alert).toHaveTextContent('This is the last owner of the workspace. Make another member an owner first.');
  });

  it('an invitation that was not e-mailed shows its link to copy', async () => {
    const calls = api({ 'POST /api/v1/invitations': { status: 201, body: invitation } });
    const user = userEvent.setup();
    renderWithProviders(<MembersPanel />, { lang: 'ru' });
    await user.click(await screen.findByRole('button', { name: 'Пригласить участника' }));
    const dialog = await screen.findByRole('dialog');
    await user.type(within(dialog).getByLabelText(/^Эл. почта/), 'vera@example.com');
    await user.click(within(dialog).getByRole('button', { name: 'Пригласить' }));
    expect(await screen.findByTestId('invitation-link')).toHaveValue(invitation.link);
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ email: 'vera@example.com', role: 'editor' });
  });

  it('offers a reset link for a member when there is no SMTP, and shows it', async () => {
    api({ 'POST /api/v1/users/u2/reset-link': { status: 201, body: { link: 'http://x/reset-password?token=r', emailed: false, expires_at: '2026-11-27T12:00:00Z' } } });
    const user = userEvent.setup();
    renderWithProviders(<MembersPanel />);
    await user.click(await screen.findByRole('button', { name: 'Actions for boris@example.com' }));
    await user.click(await screen.findByRole('menuitem', { name: 'Password reset link' }));
    expect(await screen.findByTestId('reset-link')).toHaveValue('http://x/reset-password?token=r');
  });

  it('a viewer sees the members read-only', async () => {
    api({}, { ...ME, role: 'viewer', workspace: { ...ME.workspace, role: 'viewer' } });
    renderWithProviders(<MembersPanel />);
    expect(await screen.findByText('Only owners can invite people, change roles and remove members.')).toBeInTheDocument();
    expect(await screen.findByText('boris@example.com')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Invite member' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Actions for/ })).not.toBeInTheDocument();
  });
});
