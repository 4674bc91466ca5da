import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Bundle } from '@/api/types';
import { apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { BundleListPage } from './BundleListPage';
import { RateLimitedWarning, WebhookLimitField } from './WebhookLimit';

afterEach(() => vi.unstubAllGlobals());

const steps = [{ key: 'main', action: 'create_record', entity: 'Contact', mapping: [] }];
const bundle = (own: number | null, refused = 0) =>
  ({
    id: 'b1',
    name: 'Site form',
    source: { app: 'webhook', trigger: 'incoming_request', config: {} },
    steps,
    filter: null,
    schedule: { interval_minutes: 5 },
    webhook_url: 'https://hooks.example.ru/hooks/tok',
    webhook_rate_per_minute: own,
    webhook_rate_default_per_minute: 6000,
    rate_limited_24h: refused,
  }) as unknown as Bundle;

const saved = (body: unknown) => ({ body: { ...bundle(null), ...(body as object) } });

describe('WebhookLimitField', () => {
  it('shows the default and saves an own limit through the bundle update, the configuration as it reads', async () => {
    const calls = mockApi({ 'PUT /api/v1/bundles/b1': saved });
    renderWithProviders(<WebhookLimitField bundle={bundle(null)} />);
    expect(screen.getByText('Default: 6000 requests a minute · the default applies')).toBeInTheDocument();
    const input = screen.getByTestId('webhook-limit');
    expect(input).toHaveAttribute('placeholder', '6000');
    await userEvent.type(input, '1200');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]!.body).toEqual({
      name: 'Site form',
      source: { app: 'webhook', trigger: 'incoming_request', config: {} },
      steps,
      filter: null,
      schedule: { interval_minutes: 5 },
      webhook_rate_per_minute: 1200,
    });
  });

  it('goes back to the default with null', async () => {
    const calls = mockApi({ 'PUT /api/v1/bundles/b1': saved });
    renderWithProviders(<WebhookLimitField bundle={bundle(600)} />);
    expect(screen.getByTestId('webhook-limit')).toHaveValue('600 / min');
    await userEvent.click(screen.getByRole('button', { name: 'Use the default' }));
    await waitFor(() => expect(calls).toHaveLength(1));
    expect((calls[0]!.body as Record<string, unknown>).webhook_rate_per_minute).toBeNull();
  });

  it('refuses a value out of range before sending, in Russian', async () => {
    const calls = mockApi({});
    renderWithProviders(<WebhookLimitField bundle={bundle(null)} />, { lang: 'ru' });
    await userEvent.type(screen.getByTestId('webhook-limit'), '30');
    expect(screen.getByText('лимит вебхука — от 60 до 600000 запросов в минуту')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Сохранить' })).toBeDisabled();
    expect(calls).toEqual([]);
  });

  it("shows the server's refusal of the field by its code", async () => {
    const detail = { field: 'webhook_rate_per_minute', message: 'only …', code: 'hook_rate_not_webhook', params: {} };
    mockApi({ 'PUT /api/v1/bundles/b1': apiError(422, 'validation_error', 'webhook_rate_per_minute: only …', [detail]) });
    renderWithProviders(<WebhookLimitField bundle={bundle(null)} />, { lang: 'ru' });
    await userEvent.type(screen.getByTestId('webhook-limit'), '120');
    await userEvent.click(screen.getByRole('button', { name: 'Сохранить' }));
    expect(await screen.findByText('лимит запросов есть только у связки с URL вебхука')).toBeInTheDocument();
  });
});

describe('RateLimitedWarning', () => {
  it('says how many requests were refused, in the plural the language needs', () => {
    const { rerender } = renderWithProviders(<RateLimitedWarning count={5} compact />, { lang: 'ru' });
    expect(screen.getByTestId('rate-limited')).toHaveTextContent('5 запросов отклонено: превышен лимит');
    rerender(<RateLimitedWarning count={0} compact />);
    expect(screen.queryByTestId('rate-limited')).toBeNull();
  });

  it('shows on the bundle page with the field', () => {
    mockApi({});
    renderWithProviders(<WebhookLimitField bundle={bundle(null, 1)} />);
    expect(screen.getByTestId('rate-limited')).toHaveTextContent('1 request refused: over the limit');
  });
});

describe('the bundle list', () => {
  it('warns on a bundle whose webhook refused requests', async () => {
    mockApi({
      'GET /api/v1/bundles': { body: { items: [{ ...bundle(null, 12), target: { entity: 'Contact' }, status: 'running', counts: {} }], next_cursor: null } },
      'GET /api/v1/apps': { body: { items: [] } },
    });
    renderWithProviders(<BundleListPage />, { lang: 'ru' });
    expect(await screen.findByTestId('rate-limited')).toHaveTextContent('12 запросов отклонено: превышен лимит');
  });
});
