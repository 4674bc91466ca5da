import { fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Bundle } from '@/api/types';
import { normalizeApp } from '@/features/connections/api';
import { apiError, mockApi } from '@/test/api';
import { TILDA } from '@/test/catalog';
import { renderWithProviders } from '@/test/render';
import { emptyDraft } from './model';
import { SampleStep } from './SampleStep';
import type { WizardContext } from './types';

afterEach(() => vi.unstubAllGlobals());

const URL = 'https://hooks.example.ru/hooks/tok123';
const tilda = normalizeApp(TILDA);
const ctx: WizardContext = {
  bundle: { id: 'b1', webhook_url: URL } as Bundle,
  apps: [tilda],
  sourceApp: tilda,
  sourceTrigger: tilda.triggers![0],
  connections: [],
  isWebhook: true,
  needsSourceConnection: false,
  readOnly: false,
  webhookSecret: '',
  setWebhookSecret: vi.fn(),
};
const op = (status: string) => ({ id: `o-${status}`, bundle_id: 'b1', event_id: 'e1', status, created_at: '2026-12-01T12:00:00Z' });

function api(operations: unknown[]) {
  return mockApi({
    'GET /api/v1/bundles/b1/sample': { body: { sample: null, capture: true, fields: [] } },
    'POST /api/v1/bundles/b1/sample': { body: { sample: null, capture: true, fields: [] } },
    'GET /api/v1/bundles/b1/operations': { body: { items: operations, next_cursor: null } },
  });
}

describe('SampleStep for a source app', () => {
  it('shows the URL beside the app’s instructions, and waits for the first request', async () => {
    api([]);
    renderWithProviders(<SampleStep draft={emptyDraft()} update={vi.fn()} errors={{}} ctx={ctx} />, { lang: 'ru' });
    expect(screen.getByTestId('webhook-url')).toHaveValue(URL);
    expect(screen.getByRole('heading', { name: 'Как подключить Tilda' })).toBeInTheDocument();
    expect(screen.getByTestId('app-instructions').querySelector('code')).toHaveTextContent(URL);
    expect(await screen.findByText('Ждём тестовый запрос…')).toBeInTheDocument();
    expect(screen.queryByTestId('test-request-received')).not.toBeInTheDocument();
  });

  it('counts a test request in history as arrived, though it left no sample', async () => {
    api([op('test')]);
    renderWithProviders(<SampleStep draft={emptyDraft()} update={vi.fn()} errors={{}} ctx={ctx} />, { lang: 'ru' });
    expect(await screen.findByTestId('test-request-received')).toHaveTextContent('Получен тестовый запрос');
    expect(screen.getByText(/не отправляется в bpm'online/)).toBeInTheDocument();
    expect(screen.queryByText('Ждём тестовый запрос…')).not.toBeInTheDocument();
  });

  it('does not take another operation for a test request', async () => {
    const calls = api([op('created')]);
    renderWithProviders(<SampleStep draft={emptyDraft()} update={vi.fn()} errors={{}} ctx={ctx} />);
    await vi.waitFor(() => expect(calls.some((c) => c.path.startsWith('/api/v1/bundles/b1/operations'))).toBe(true));
    expect(await screen.findByText('Waiting for a test request…')).toBeInTheDocument();
    expect(screen.queryByTestId('test-request-received')).not.toBeInTheDocument();
  });
});

describe('SampleStep for a polling source', () => {
  const polling: WizardContext = { ...ctx, bundle: { id: 'b1', webhook_url: null } as unknown as Bundle, isWebhook: false, sourceApp: undefined, sourceTrigger: undefined };

  it('loads a sample from the source with a button', async () => {
    const calls = mockApi({
      'GET /api/v1/bundles/b1/sample': { body: { sample: null, capture: false, fields: [] } },
      'POST /api/v1/bundles/b1/sample': { body: { sample: { id: 7, email: 'ann@poll.example' }, capture: false, fields: [] } },
    });
    renderWithProviders(<SampleStep draft={emptyDraft()} update={vi.fn()} errors={{}} ctx={polling} />, { lang: 'ru' });
    expect(screen.getByText(/нажмите «Загрузить пример»/)).toBeInTheDocument();
    fireEvent.click(screen.getByTestId('fetch-sample'));
    expect(await screen.findByTestId('sample-received')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ fetch: true });
    expect(screen.getByTestId('fetch-sample')).toHaveTextContent('Загрузить заново');
  });

  it('shows the source’s request and answer when loading fails', async () => {
    const requests = [{ method: 'GET', url: 'https://api.example.ru/items?limit=1', status: 500, response_body: '{"error": "forced"}' }];
    mockApi({
      'GET /api/v1/bundles/b1/sample': { body: { sample: null, capture: false, fields: [] } },
      'POST /api/v1/bundles/b1/sample': apiError(502, 'source_error', 'the source failed: HTTP 500', { code: 'http_500', requests }),
    });
    renderWithProviders(<SampleStep draft={emptyDraft()} update={vi.fn()} errors={{}} ctx={polling} />, { lang: 'ru' });
    fireEvent.click(screen.getByTestId('fetch-sample'));
    const shown = await screen.findByTestId('sample-requests');
    expect(shown).toHaveTextContent('GET https://api.example.ru/items?limit=1');
    expect(shown).toHaveTextContent('HTTP 500');
    expect(shown).toHaveTextContent('"error": "forced"');
  });
});
