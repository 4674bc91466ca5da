import { screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { OperationDetails } from './OperationDetails';

afterEach(() => vi.unstubAllGlobals());

const operation = (status: string, error: string) => ({
  id: 'o1',
  bundle_id: 'b1',
  event_id: 'e1',
  config_version: 1,
  status,
  attempts: 1,
  record_id: null,
  error,
  source_data: {},
  mapped_data: null,
  created_at: '2026-12-02T12:00:00Z',
  updated_at: '2026-12-02T12:00:01Z',
  finished_at: '2026-12-02T12:00:01Z',
  steps: [],
});

describe('OperationDetails', () => {
  it('shows how an updated operation was matched as a note, not as an error', async () => {
    mockApi({ 'GET /api/v1/operations/o1': { body: operation('updated', '1 record matches by group 2 (Email = a@b.ru): r1') } });
    renderWithProviders(<OperationDetails id="o1" />, { lang: 'ru' });
    const note = await screen.findByTestId('operation-note');
    expect(note).toHaveAttribute('data-kind', 'note');
    expect(note).toHaveTextContent('Примечание');
    expect(note).toHaveTextContent('by group 2 (Email = a@b.ru)');
  });

  it("shows a failed operation's reason as an error", async () => {
    mockApi({ 'GET /api/v1/operations/o1': { body: operation('failed', "Name: the field is required but came out empty") } });
    renderWithProviders(<OperationDetails id="o1" />, { lang: 'ru' });
    const error = await screen.findByTestId('operation-note');
    expect(error).toHaveAttribute('data-kind', 'error');
    expect(error).toHaveTextContent('Ошибка');
  });
});
