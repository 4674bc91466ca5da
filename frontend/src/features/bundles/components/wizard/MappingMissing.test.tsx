import { fireEvent, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ME, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { type Draft, emptyDraft } from './model';
import { MappingStep } from './MappingStep';
import { newStep } from './stepsModel';
import type { WizardContext } from './types';

afterEach(() => vi.unstubAllGlobals());

const ctx = { apps: [], connections: [], isWebhook: true, needsSourceConnection: false, readOnly: false, webhookSecret: '', setWebhookSecret: vi.fn() } as unknown as WizardContext;
const field = (name: string, required = false) => ({ name, type: 'Edm.String', required, read_only: false });

function Harness() {
  const step = { ...newStep('create_record', [], 'c1'), key: 'contact', entity: 'Contact', mapping: [{ target: 'Email', source: 'email' }] };
  const [draft, setDraft] = useState<Draft>({ ...emptyDraft(), steps: [step], current: 0 });
  return (
    <>
      <MappingStep draft={draft} update={setDraft} errors={{}} ctx={ctx} />
      <button type="button" onClick={() => setDraft((d) => ({ ...d, steps: [{ ...d.steps[0]!, mapping: [...d.steps[0]!.mapping, { target: 'Name', source: 'name' }] }] }))}>
        map Name
      </button>
    </>
  );
}

describe('the mapping page names the required fields left unmapped (no placeholder is mapped)', () => {
  it('shows Name as missing until it is mapped', async () => {
    mockApi({
      'GET /api/v1/auth/me': { body: ME },
      'GET /api/v1/connections/c1/entities/Contact': { body: { name: 'Contact', fields: [field('Name', true), field('Email')] } },
    });
    renderWithProviders(<Harness />, { lang: 'ru' });
    const missing = await screen.findByTestId('mapping-missing');
    expect(missing).toHaveTextContent('Не заполнены обязательные поля');
    expect(missing).toHaveTextContent('Поле Name обязательно в bpm\'online');
    fireEvent.click(screen.getByRole('button', { name: 'map Name' }));
    expect(screen.queryByTestId('mapping-missing')).not.toBeInTheDocument();
  });
});
