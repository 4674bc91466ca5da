import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Notifications } from '@mantine/notifications';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ME, apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { BundleListPage } from './BundleListPage';

afterEach(() => vi.unstubAllGlobals());

const URL = 'https://hooks.example.ru/hooks/tok-live';
const base = { source: { app: 'webhook', trigger: 'incoming_request' }, steps: [{ key: 'contact', entity: 'Contact' }], counts: {}, held_count: 0, last_run: null, status_reason: null };
const BUNDLES = [
  { ...base, id: 'b1', name: 'Форма → Контакт', status: 'waiting', webhook_url: URL, incomplete: false, missing: [] },
  { ...base, id: 'b2', name: 'Только e-mail', status: 'stopped', webhook_url: 'https://hooks.example.ru/hooks/tok-2', incomplete: true, missing: [{ step: 'contact', field: 'Name' }] },
];

function api() {
  const refusal = { field: 'steps.0.mapping', message: 'step «Контакт»: …', code: 'step_fields_unmapped', params: { step: 'Контакт', fields: 'Name', count: 1 } };
  return mockApi({
    'GET /api/v1/auth/me': { body: ME },
    'GET /api/v1/apps': { body: { items: [] } },
    'GET /api/v1/bundles': { body: { items: BUNDLES, next_cursor: null } },
    'POST /api/v1/bundles/b2/start': apiError(422, 'validation_error', 'the bundle cannot start: …', [refusal]),
  });
}

const rowOf = async (name: string) => (await screen.findAllByTestId('bundle-row')).find((r) => r.getAttribute('data-name') === name)!;

describe('the bundle list', () => {
  it('says what each coloured count is, and Stop looks like a button that works', async () => {
    api();
    renderWithProviders(<BundleListPage />, { lang: 'ru' });
    const running = await rowOf('Форма → Контакт');
    const legend = screen.getByTestId('counts-legend');
    for (const words of ['создано', 'обновлено', 'дубль пропущен', 'ошибка']) expect(legend).toHaveTextContent(words);
    const stop = within(running).getByRole('button', { name: 'Остановить' });
    expect(stop).toBeEnabled();
    expect(stop.getAttribute('data-variant')).toBe('outline');
  });

  it('a started webhook bundle’s menu shows its URL with a copy button', async () => {
    api();
    const user = userEvent.setup();
    renderWithProviders(<BundleListPage />, { lang: 'ru' });
    await user.click(within(await rowOf('Форма → Контакт')).getByRole('button', { name: 'Другие действия' }));
    await user.click(await screen.findByTestId('menu-webhook-url'));
    expect(await screen.findByTestId('bundle-webhook-url')).toHaveValue(URL);
    expect(within(screen.getByRole('dialog')).getByRole('button', { name: 'Копировать' })).toBeInTheDocument();
  });

  it('an incomplete bundle is marked, and its start refusal names the step and the field', async () => {
    api();
    renderWithProviders(
      <>
        <Notifications />
        <BundleListPage />
      </>,
      { lang: 'ru' },
    );
    const draft = await rowOf('Только e-mail');
    expect(within(draft).getByTestId('bundle-incomplete')).toHaveTextContent('Черновик');
    fireEvent.click(within(draft).getByRole('button', { name: 'Запустить' }));
    expect(await screen.findByText('Шаг «Контакт»: не заполнено обязательное поле Name')).toBeInTheDocument();
  });
});
