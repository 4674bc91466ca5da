import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ME, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { HistoryPage } from './HistoryPage';

afterEach(() => vi.unstubAllGlobals());

const NEXT = '2026-12-01T15:00:00Z';

const operation = (id: string, status: string, next_attempt_at: string | null) => ({
  id,
  bundle_id: 'b1',
  event_id: `e-${id}`,
  config_version: 1,
  status,
  attempts: 8,
  record_id: null,
  error: status === 'retrying' ? 'bpm\'online answered 503 (retrying on a slow schedule)' : null,
  source_data: { email: `${id}@example.com` },
  mapped_data: null,
  bundle_name: 'Site form',
  created_at: '2026-12-01T12:00:00Z',
  updated_at: '2026-12-01T12:05:00Z',
  finished_at: null,
  parked_at: next_attempt_at ? '2026-12-01T12:05:00Z' : null,
  next_attempt_at,
});

function api(role: string) {
  return mockApi({
    'GET /api/v1/auth/me': { body: { ...ME, role } },
    'GET /api/v1/bundles': { body: { items: [{ id: 'b1', name: 'Site form', status: 'waiting', config: {} }], next_cursor: null } },
    'GET /api/v1/operations': { body: { items: [operation('p1', 'retrying', NEXT), operation('q1', 'queued', null)], next_cursor: null } },
    'POST /api/v1/operations/p1/retry-now': { body: operation('p1', 'retrying', '2026-12-01T12:10:00Z') },
  });
}

describe('HistoryPage', () => {
  it('offers «Retry now» on a parked operation only, and sends it', async () => {
    const calls = api('editor');
    const user = userEvent.setup();
    renderWithProviders(<HistoryPage />, { route: '/history?bundle=b1' });
    const buttons = await screen.findAllByRole('button', { name: 'Retry now' });
    expect(buttons).toHaveLength(1); // the queued operation is not parked
    await user.click(buttons[0]!);
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/operations/p1/retry-now')).toBe(true);
  });

  it('shows a viewer when the next attempt is (in Russian), without the button', async () => {
    api('viewer');
    const user = userEvent.setup();
    renderWithProviders(<HistoryPage />, { route: '/history?bundle=b1', lang: 'ru' });
    const next = await screen.findByTestId('next-attempt');
    expect(screen.queryByRole('button', { name: 'Повторить сейчас' })).not.toBeInTheDocument();
    await user.hover(next);
    expect(await screen.findByText(/^Следующая попытка: .*2026/)).toBeInTheDocument();
  });

  it('shows a test request with its own badge, explained, and offers it as a filter (ru)', async () => {
    mockApi({
      'GET /api/v1/auth/me': { body: ME },
      'GET /api/v1/bundles': { body: { items: [{ id: 'b1', name: 'Site form', status: 'waiting', config: {} }], next_cursor: null } },
      'GET /api/v1/operations': { body: { items: [operation('t1', 'test', null)], next_cursor: null } },
    });
    const user = userEvent.setup();
    renderWithProviders(<HistoryPage />, { route: '/history?bundle=b1', lang: 'ru' });
    const badge = await screen.findByText('тест', { selector: '[data-status=test] *' });
    await user.hover(badge);
    expect(await screen.findByText("Тестовый запрос отправителя; в bpm'online не отправляется")).toBeInTheDocument();
    await user.click(screen.getByRole('textbox', { name: 'Статус' }));
    expect(await screen.findByRole('option', { name: 'тест' })).toBeInTheDocument();
  });

  it('opens on every bundle of the workspace, each row naming its bundle, and filters by one', async () => {
    const calls = api('viewer');
    const user = userEvent.setup();
    renderWithProviders(<HistoryPage />, { route: '/history', lang: 'ru' });
    const names = await screen.findAllByTestId('operation-bundle');
    expect(names[0]).toHaveTextContent('Site form');
    const first = calls.find((c) => c.path.startsWith('/api/v1/operations?'));
    expect(first?.path).not.toContain('bundle_id');
    expect(screen.getByTestId('history-bundle')).toHaveAttribute('placeholder', 'Все связки');
    await user.type(screen.getByTestId('history-search'), 'p1@example.com');
    await vi.waitFor(() => expect(calls.some((c) => c.path.includes('q=p1%40example.com'))).toBe(true));
  });
});
