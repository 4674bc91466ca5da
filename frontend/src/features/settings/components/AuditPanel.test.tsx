import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setDisplayTimeZone } from '@/lib/format';
import { ME, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { AuditPanel, describeDetails } from './AuditPanel';

afterEach(() => {
  vi.unstubAllGlobals();
  setDisplayTimeZone(undefined);
});

const entry = (id: number, at: string, action: string) => ({
  id,
  at,
  actor: { id: 'u1', email: 'anna@example.com', name: 'Anna' },
  via: 'session',
  action,
  entity_type: 'bundle',
  entity_id: 'b1',
  entity_name: 'Site form',
  details: { changed: ['name', 'mapping'] },
});

describe('AuditPanel', () => {
  it('lists entries in the profile time zone and loads more by cursor', async () => {
    setDisplayTimeZone('Asia/Tokyo');
    const calls = mockApi({
      'GET /api/v1/auth/me': { body: ME },
      'GET /api/v1/audit': (_, url) =>
        url.searchParams.get('cursor') === 'c2'
          ? { body: { items: [entry(1, '2026-11-26T15:00:00Z', 'created')], next_cursor: null } }
          : { body: { items: [entry(2, '2026-11-27T15:30:00Z', 'updated')], next_cursor: 'c2' } },
    });
    const user = userEvent.setup();
    renderWithProviders(<AuditPanel />);
    expect(await screen.findByText('Time (Asia/Tokyo)')).toBeInTheDocument();
    // 15:30 UTC is 00:30 the next day in Tokyo.
    expect(screen.getByText(/Nov 28, 2026.*12:30:00/)).toBeInTheDocument();
    expect(screen.getByText('changed: name, mapping')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await screen.findAllByTestId('audit-row')).toHaveLength(2);
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.path.startsWith('/api/v1/audit')).map((c) => c.path)).toEqual(['/api/v1/audit?limit=50', '/api/v1/audit?limit=50&cursor=c2']);
  });

  it('is for owners only', async () => {
    mockApi({ 'GET /api/v1/auth/me': { body: { ...ME, role: 'editor' } } });
    renderWithProviders(<AuditPanel />, { lang: 'ru' });
    expect(await screen.findByText('Журнал действий доступен только владельцам.')).toBeInTheDocument();
  });

  it('describes details in one line', () => {
    expect(describeDetails({ changed: ['a', 'b'], app: 'bpmonline', empty: null, nested: { x: 1 } })).toBe('changed: a, b · app: bpmonline · nested: {"x":1}');
    expect(describeDetails({})).toBe('');
  });
});
