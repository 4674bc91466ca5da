import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import type { components } from '@/api/schema';
import { normalizeApp } from '@/features/connections/api';
import { renderWithProviders } from '@/test/render';
import { type Draft, emptyDraft } from './model';
import { SourceStep } from './SourceStep';
import type { WizardContext } from './types';

type FormField = components['schemas']['FormField'];
const L = (en: string, ru: string) => ({ en, ru });
const f = (name: string, label: string, extra: Partial<FormField> = {}): FormField => ({ name, label: L(label, label), type: 'string', required: false, secret: false, advanced: false, ...extra });

// As the catalog declares them (bpmlink/catalog/generic.py), trimmed to what these tests read.
const WEBHOOK = normalizeApp({
  key: 'webhook',
  label: L('Webhook', 'Вебхук'),
  needs_connection: false,
  triggers: [
    {
      key: 'incoming_request',
      label: L('Incoming request', 'Входящий запрос'),
      kind: 'webhook',
      config_fields: [
        f('idempotency_field', 'Поле с уникальным номером заявки (необязательно)'),
        f('verification', 'Проверка подписи', { type: 'select', default: 'none', options: ['none', 'header_secret', 'hmac_sha256'] }),
        f('signature_header', 'Заголовок с секретом или подписью', { default: 'X-Signature', show_if: { verification: ['header_secret', 'hmac_sha256'] } }),
      ],
    },
  ],
} as unknown as components['schemas']['App']);
const HTTP = normalizeApp({
  key: 'http_polling',
  label: L('HTTP API', 'HTTP API'),
  needs_connection: true,
  triggers: [
    {
      key: 'new_items',
      label: L('New items', 'Новые элементы'),
      kind: 'polling',
      config_fields: [
        f('path', 'Путь', { required: true, default: '/items' }),
        f('items_path', 'Где в ответе список записей', { default: 'items' }),
        f('cursor_field', 'Поле, по которому видно новые записи', { default: 'updated_at' }),
        f('cursor_param', 'Параметр курсора', { default: 'since', advanced: true }),
        f('page_param', 'Параметр номера страницы (необязательно)', { advanced: true }),
      ],
    },
  ],
} as unknown as components['schemas']['App']);

function Harness({ app, trigger }: { app: typeof WEBHOOK; trigger: string }) {
  const [draft, setDraft] = useState<Draft>({ ...emptyDraft(), source: { app: app.name, trigger, connection_id: null, config: {} } });
  const ctx = {
    apps: [app],
    connections: [],
    sourceApp: app,
    sourceTrigger: app.triggers![0],
    isWebhook: app.name === 'webhook',
    needsSourceConnection: false,
    readOnly: false,
    bundle: { id: 'b1' },
    webhookSecret: '',
    setWebhookSecret: () => undefined,
  } as unknown as WizardContext;
  return <SourceStep draft={draft} update={setDraft} errors={{}} ctx={ctx} />;
}

describe('the webhook step in words', () => {
  it('names each verification with its help, and asks for a header only when one is used', async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness app={WEBHOOK} trigger="incoming_request" />, { lang: 'ru' });
    const select = screen.getByRole('textbox', { name: 'Проверка подписи' });
    expect(select).toHaveValue('Без проверки');
    expect(select).toHaveAccessibleDescription(/Принимается любой запрос/);
    expect(screen.queryByRole('textbox', { name: 'Заголовок с секретом или подписью' })).not.toBeInTheDocument();
    expect(screen.queryByText(/идемпотентност/i)).not.toBeInTheDocument();
    await user.click(select);
    const options = screen.getAllByRole('option').map((o) => o.textContent);
    expect(options.join(' ')).not.toMatch(/header_secret|hmac_sha256|\bnone\b/);
    await user.click(screen.getByRole('option', { name: /Подпись HMAC-SHA256/ }));
    expect(screen.getByRole('textbox', { name: 'Заголовок с секретом или подписью' })).toHaveValue('X-Signature');
  });
});

describe('HTTP polling, simple first', () => {
  it('shows where the list is and which field is new; paging and cursors wait under «Дополнительно»', () => {
    renderWithProviders(<Harness app={HTTP} trigger="new_items" />, { lang: 'ru' });
    expect(screen.getByRole('textbox', { name: 'Где в ответе список записей' })).toBeVisible();
    expect(screen.getByRole('textbox', { name: 'Поле, по которому видно новые записи' })).toBeVisible();
    const advanced = screen.getByTestId('advanced-config');
    expect(within(advanced).getByRole('button', { name: /Дополнительно/ })).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByRole('textbox', { name: 'Параметр курсора' })).not.toBeInTheDocument();
  });
});
