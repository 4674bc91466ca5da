import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Connection, StepPreview } from '@/api/types';
import { mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { type Draft, emptyDraft } from './model';
import { StepPreviewView } from './StepPreviewView';
import { TargetStep } from './TargetStep';
import type { WizardContext } from './types';

afterEach(() => vi.unstubAllGlobals());

const connections = [
  { id: 'c1', name: 'Наш bpm', app: 'bpmonline' },
  { id: 'c2', name: 'Тестовый bpm', app: 'bpmonline' },
] as Connection[];
const ctx: WizardContext = { apps: [], connections, isWebhook: true, needsSourceConnection: false, readOnly: false, webhookSecret: '', setWebhookSecret: vi.fn() };

let latest: Draft;
function Harness() {
  const [draft, setDraft] = useState<Draft>(emptyDraft());
  latest = draft;
  return <TargetStep draft={draft} update={(fn) => setDraft(fn)} errors={{}} ctx={ctx} />;
}

describe('the steps page', () => {
  it('a template fills the steps, and one picker sets every step\'s connection', async () => {
    mockApi({ 'GET /api/v1/connections/c2/entities': { body: { items: [] } } });
    const user = userEvent.setup();
    renderWithProviders(<Harness />, { lang: 'ru' });
    expect(screen.getByTestId('step-templates')).toHaveTextContent('Заявка с сайта → Контакт + Лид + Задача');
    await user.click(screen.getByTestId('template-lead'));
    expect(screen.queryByTestId('step-templates')).toBeNull();
    expect(latest.steps.map((s) => s.key)).toEqual(['contact', 'lead', 'task']);
    expect(screen.getByTestId('step-item-2')).toHaveTextContent('Задача');
    await user.click(screen.getByTestId('connection-for-all'));
    await user.click(await screen.findByRole('option', { name: 'Тестовый bpm' }));
    expect(latest.steps.map((s) => s.connection_id)).toEqual(['c2', 'c2', 'c2']);
    // The mapping made by the template survives the connection's choice.
    expect(latest.steps[1]!.mapping).toContainEqual({ target: 'QualifiedContactId', source: 'steps.contact.Id' });
  });

  it('the task step shows its options with the defaults and «через 2 часа»', async () => {
    mockApi({});
    const user = userEvent.setup();
    renderWithProviders(<Harness />, { lang: 'ru' });
    await user.click(screen.getByTestId('template-lead'));
    await user.click(screen.getByTestId('select-step-2'));
    expect(screen.getByTestId('activity-options')).toHaveTextContent('По умолчанию: Задача');
    expect(screen.getByTestId('activity-due')).toHaveValue('2');
  });
});

describe('the api refusals on the steps page', () => {
  it('a message at a path inside a part (the api names the exact field) shows on that part', () => {
    mockApi({});
    const draft = emptyDraft();
    const errors = { 'steps.0.for_each': 'steps.errors.refForward', 'steps.0.process.schema_name': 'bad' };
    renderWithProviders(<TargetStep draft={{ ...draft, steps: [{ ...draft.steps[0]!, action: 'run_process', process: { schema_name: 'x y', result_parameter: null } }] }} update={vi.fn()} errors={errors} ctx={ctx} />, {
      lang: 'ru',
    });
    expect(screen.getByTestId('step-editor')).toHaveTextContent('Шаг читает результат шага, который идёт позже');
    expect(screen.getByTestId('process-schema').closest('.mantine-InputWrapper-root')).toHaveTextContent('bad');
  });
});

describe('a step preview', () => {
  const preview: StepPreview = {
    key: 'lead',
    name: 'Лид',
    condition_reason: null,
    action: 'create_record',
    entity: 'Lead',
    runs: true,
    values: { LeadName: 'Заявка с сайта: Анна', QualifiedContactId: '0f1e2d3c-0000-4000-8000-000000000001' },
    errors: [{ field: 'Email', message: 'not an e-mail', code: 'not_an_email', params: {} }],
    warnings: [],
    stand_ins: { 'steps.contact.Id': '0f1e2d3c-0000-4000-8000-000000000001' },
  };

  it("shows an earlier step's result as a stand-in in words", () => {
    renderWithProviders(<StepPreviewView preview={preview} names={{ contact: 'Контакт' }} />, { lang: 'ru' });
    expect(screen.getByTestId('stand-in')).toHaveTextContent('будет Id шага «Контакт»');
    expect(screen.getByTestId('step-preview')).toHaveTextContent('Заявка с сайта: Анна');
    expect(screen.getByTestId('step-preview')).toHaveTextContent('not an e-mail');
  });

  it('a step whose condition does not hold says it will not run, and why', () => {
    renderWithProviders(<StepPreviewView preview={{ ...preview, runs: false, condition_reason: 'source.kind = «b2b»' }} names={{}} />, { lang: 'ru' });
    expect(screen.getByTestId('step-preview-skipped')).toHaveTextContent('шаг не выполнится: source.kind = «b2b»');
  });
});
