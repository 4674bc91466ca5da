import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import type { Connection } from '@/api/types';
import { normalizeApp } from '@/features/connections/api';
import { CATALOG } from '@/test/catalog';
import { renderWithProviders } from '@/test/render';
import { type Draft, emptyDraft } from './model';
import { SourceStep, needsConnection } from './SourceStep';
import type { WizardContext } from './types';

const apps = CATALOG.map(normalizeApp);
const connections = [
  { id: 'c-amo', name: 'Our amoCRM', app: 'amocrm' },
  { id: 'c-bpm', name: 'CRM', app: 'bpmonline' },
] as unknown as Connection[];

function Harness({ secret = { value: '' }, start, bundle }: { secret?: { value: string }; start?: Draft; bundle?: WizardContext['bundle'] }) {
  const [draft, setDraft] = useState<Draft>(start ?? emptyDraft());
  const [webhookSecret, setWebhookSecret] = useState('');
  secret.value = webhookSecret;
  const app = apps.find((a) => a.name === draft.source.app);
  const trigger = app?.triggers?.find((tr) => tr.name === draft.source.trigger);
  const ctx: WizardContext = {
    apps,
    connections,
    sourceApp: app,
    sourceTrigger: trigger,
    isWebhook: true,
    needsSourceConnection: needsConnection(app, trigger),
    readOnly: false,
    bundle,
    webhookSecret,
    setWebhookSecret,
  };
  return (
    <>
      <SourceStep draft={draft} update={setDraft} errors={{}} ctx={ctx} />
      <output data-testid="draft">{JSON.stringify(draft.source)}</output>
    </>
  );
}

describe('SourceStep', () => {
  it('a new bundle starts in the gallery; picking Tilda shows its trigger in its own words, its fields and a write-only secret', async () => {
    const user = userEvent.setup();
    const secret = { value: '' };
    renderWithProviders(<Harness secret={secret} />, { lang: 'ru' });
    await user.click(screen.getByTestId('source-app-tilda'));
    expect(screen.queryByTestId('app-search')).not.toBeInTheDocument();
    expect(screen.getByTestId('trigger-form_submission')).toHaveTextContent('Новая заявка с формы');
    expect(screen.getByTestId('trigger-form_submission')).toHaveTextContent('Каждая отправленная форма');
    expect(JSON.parse(screen.getByTestId('draft').textContent!)).toMatchObject({ app: 'tilda', trigger: 'form_submission', connection_id: null });
    expect(screen.getByRole('textbox', { name: 'Заголовок API-ключа (необязательно)' })).toBeInTheDocument();
    const input = screen.getByTestId('webhook-secret');
    expect(input).toHaveAttribute('type', 'password');
    await user.type(input, 'tilda-api-key-1');
    expect(secret.value).toBe('tilda-api-key-1');
    // The secret never goes into the draft (which is kept in the browser's storage).
    expect(screen.getByTestId('draft')).not.toHaveTextContent('tilda-api-key-1');
    // No connection for an app that needs none.
    expect(screen.queryByTestId('source-connection')).not.toBeInTheDocument();
  });

  it('an app that needs a connection offers only its own, a way to create one, and its secret config as a password', async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness />);
    await user.click(screen.getByRole('radio', { name: 'CRM and chats' }));
    await user.click(screen.getByTestId('source-app-amocrm'));
    await user.click(screen.getByTestId('source-connection'));
    expect(screen.getByRole('option', { name: 'Our amoCRM' })).toBeInTheDocument();
    expect(screen.queryByRole('option', { name: 'CRM' })).not.toBeInTheDocument();
    expect(screen.getByTestId('create-source-connection')).toHaveAttribute('href', '/connections/new?app=amocrm');
    expect(screen.getByLabelText('Account secret')).toHaveAttribute('type', 'password');
    expect(screen.getByLabelText('Allowed networks').tagName).toBe('TEXTAREA'); // one per line
    // Back to the gallery, and another app resets the source.
    await user.click(screen.getByTestId('change-app'));
    await user.click(screen.getByTestId('source-app-webhook'));
    expect(JSON.parse(screen.getByTestId('draft').textContent!)).toMatchObject({ app: 'webhook', trigger: 'incoming_request', config: {} });
  });

  it('a secret config field already stored says so and may stay empty', () => {
    const start = { ...emptyDraft(), source: { app: 'amocrm', trigger: 'lead_added', connection_id: null, config: {} } } as Draft;
    const bundle = { config_secrets_set: ['account_secret'] } as unknown as WizardContext['bundle'];
    const { unmount } = renderWithProviders(<Harness start={start} bundle={bundle} />);
    const stored = screen.getByLabelText(/Account secret/);
    expect(stored).toHaveAttribute('placeholder', 'Leave empty to keep the stored value');
    unmount();
    renderWithProviders(<Harness start={start} />);
    expect(screen.getByLabelText(/Account secret/)).not.toHaveAttribute('placeholder');
  });
});
