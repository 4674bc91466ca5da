import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Bundle } from '@/api/types';
import { apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import type { DedupPreview } from '../../api/dedup';
import { DedupStep } from './DedupStep';
import { type Draft, emptyDraft } from './model';
import type { WizardContext } from './types';

afterEach(() => vi.unstubAllGlobals());

const ctx: WizardContext = {
  bundle: { id: 'b1', name: 'Site → Contacts' } as Bundle,
  apps: [],
  connections: [],
  isWebhook: true,
  needsSourceConnection: false,
  readOnly: false,
  webhookSecret: '',
  setWebhookSecret: vi.fn(),
};
const step = {
  ...emptyDraft().steps[0]!,
  key: 'contact',
  connection_id: 'c1',
  entity: 'Contact',
  mapping: [
    { target: 'MobilePhone', source: 'phone' },
    { target: 'Email', source: 'email' },
  ],
  dedup: { mode: 'update_if_found' as const, match: [{ fields: ['MobilePhone'] }, { fields: ['Email'] }], compare: {}, on_several: 'newest' as const, update_rules: {} },
};
const draft: Draft = { ...emptyDraft(), name: 'Site → Contacts', steps: [step] };
const FOUND: DedupPreview = {
  step: 'contact',
  group: 0,
  fields: ['MobilePhone'],
  values: { MobilePhone: '+7 912 345-67-89' },
  candidates: [{ id: 'r1', name: 'Иван Петров' }],
  phone_search: 'search_column',
  action: 'update',
  errors: [],
};

function api(preview: Parameters<typeof mockApi>[0][string]) {
  return mockApi({
    'GET /api/v1/connections/c1/entities': { body: { items: [{ name: 'Contact', caption: 'Контакт' }] } },
    'GET /api/v1/connections/c1/entities/Contact': {
      body: { name: 'Contact', fields: [{ name: 'MobilePhone', caption: 'телефон', type: 'text', required: false, read_only: false }] },
    },
    'PUT /api/v1/bundles/b1': (body) => ({ body: { id: 'b1', ...(body as object) } }),
    'POST /api/v1/bundles/b1/dedup-preview': preview,
  });
}

async function check() {
  renderWithProviders(<DedupStep draft={draft} update={vi.fn()} errors={{}} ctx={ctx} />, { lang: 'ru' });
  await screen.findByText(/Группа 1: Искать по: телефон/);
  await userEvent.setup().click(screen.getByRole('button', { name: 'Проверить на примере' }));
}

describe('DedupStep: the check on the sample', () => {
  it('saves the policy, then shows the record found now and by which group', async () => {
    const calls = api({ body: FOUND });
    await check();
    expect(await screen.findByText('Найдено по группе 1: телефон (MobilePhone) +7 912 345-67-89 → Контакт Иван Петров')).toBeInTheDocument();
    expect(screen.getByText('Запись будет обновлена.')).toBeInTheDocument();
    expect(screen.queryByTestId('dedup-exact-fallback')).toBeNull();
    const sent = calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`);
    expect(sent).toEqual(['PUT /api/v1/bundles/b1', 'POST /api/v1/bundles/b1/dedup-preview']);
    expect((calls.find((c) => c.method === 'PUT')!.body as { steps: Array<{ dedup: unknown }> }).steps[0]!.dedup).toMatchObject({ match: [{ fields: ['MobilePhone'] }, { fields: ['Email'] }] });
    expect(calls.at(-1)!.body).toEqual({});
  });

  it('an edit of the policy clears a result shown for the one before', async () => {
    const user = userEvent.setup();
    api({ body: FOUND });
    function Harness() {
      const [d, setD] = useState(draft);
      return <DedupStep draft={d} update={(fn) => setD(fn)} errors={{}} ctx={ctx} />;
    }
    renderWithProviders(<Harness />, { lang: 'ru' });
    await user.click(await screen.findByRole('button', { name: 'Проверить на примере' }));
    expect(await screen.findByTestId('dedup-check-result')).toBeInTheDocument();
    await user.click(screen.getByLabelText('Обновить самую старую'));
    expect(screen.queryByTestId('dedup-check-result')).toBeNull();
  });

  it('nothing found: a new record will be created', async () => {
    api({ body: { ...FOUND, group: null, fields: [], values: {}, candidates: [], action: 'create' } });
    await check();
    expect(await screen.findByText('Будет создана новая запись.')).toBeInTheDocument();
    expect(screen.queryByText(/Найдено по группе/)).toBeNull();
  });

  it('several found: lists them', async () => {
    api({ body: { ...FOUND, group: 1, fields: ['Email'], values: { Email: 'a@b.ru' }, candidates: [{ id: 'r1', name: 'Иван' }, { id: 'r2' }] } });
    await check();
    expect(await screen.findByText('Найдено по группе 2: Email a@b.ru, записей: 2:')).toBeInTheDocument();
    expect(screen.getByText('Контакт Иван')).toBeInTheDocument();
    expect(screen.getByText('Контакт r2')).toBeInTheDocument();
  });

  it('exact_fallback: warns that only exactly equal numbers are found, and what to map', async () => {
    api({ body: { ...FOUND, group: null, fields: [], values: {}, candidates: [], phone_search: 'exact_fallback', action: 'create' } });
    await check();
    const warning = await screen.findByTestId('dedup-exact-fallback');
    expect(warning).toHaveTextContent('Этот bpm\'online не умеет искать телефон в любом формате');
    expect(warning).toHaveTextContent('Найдутся только номера, записанные точно так же');
    expect(warning).toHaveTextContent('E.164');
    expect(warning).toHaveTextContent('«Телефон → +7… (российские номера)»');
  });

  it("the example's mapping problems are listed beside the result", async () => {
    api({ body: { ...FOUND, errors: [{ field: 'MobilePhone', message: "'не телефон' is not a phone number" }] } });
    await check();
    const problems = await screen.findByTestId('dedup-check-errors');
    expect(problems).toHaveTextContent('Пример сопоставляется с ошибками');
    expect(problems).toHaveTextContent("'не телефон' is not a phone number");
  });

  it("an api error in the user's language by its code, else the api's message", async () => {
    api(apiError(429, 'preview_rate_limited', 'more than 30 previews in 60 s'));
    await check();
    expect(await screen.findByTestId('dedup-check-error')).toHaveTextContent('Слишком много проверок за минуту: повторите чуть позже.');
  });

  it('an unknown error code falls back to the message', async () => {
    api(apiError(422, 'no_sample_yet_new', 'no sample yet: send a test request first'));
    await check();
    expect(await screen.findByTestId('dedup-check-error')).toHaveTextContent('no sample yet: send a test request first');
  });

  it('cannot check while a group is empty', async () => {
    api({ body: FOUND });
    renderWithProviders(<DedupStep draft={{ ...draft, steps: [{ ...step, dedup: { ...step.dedup, match: [{ fields: [] }] } }] }} update={vi.fn()} errors={{}} ctx={ctx} />);
    expect(screen.getByRole('button', { name: 'Check on the sample' })).toBeDisabled();
  });
});
