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

describe('OperationDetails with bundle steps', () => {
  const stepped = {
    ...operation('failed', 'step «task»: bpm refused the record'),
    step_results: [
      { key: 'contact', action: 'create_record', entity: 'Contact', result: 'created', record_id: 'c-1', elements: [], error: null, note: null, values: {} },
      { key: 'lead', action: 'create_record', entity: 'Lead', result: 'found', record_id: 'l-1', elements: [], error: null, note: { code: 'dedup_matched', params: {}, text: 'matched by Email' }, values: {} },
      {
        key: 'task',
        action: 'create_activity',
        entity: 'Activity',
        result: 'failed',
        record_id: null,
        elements: [],
        error: { code: 'bpm_refused', params: {}, text: 'bpm refused the record', remote: 'Поле «Тема» должно быть заполнено' },
        note: null,
        values: {},
      },
    ],
    requests: [{ attempt: 1, position: 1, method: 'POST', url: 'https://crm/0/odata/Contact', status: 201 }],
    steps: [{ attempt: 1, position: 1, method: 'POST', url: 'https://crm/0/odata/Contact', status: 201 }],
  };
  const bundle = { id: 'b1', name: 'Сайт', source: {}, steps: [{ key: 'contact', name: 'Контакт' }, { key: 'lead', name: 'Лид' }, { key: 'task', name: 'Задача' }] };

  it('shows each step: its result in words, its record with the entity, its error with bpm\'online\'s words labelled', async () => {
    mockApi({ 'GET /api/v1/operations/o1': { body: stepped }, 'GET /api/v1/bundles/b1': { body: bundle } });
    renderWithProviders(<OperationDetails id="o1" />, { lang: 'ru' });
    const results = await screen.findAllByTestId('step-result');
    expect(results.map((r) => r.getAttribute('data-key'))).toEqual(['contact', 'lead', 'task']);
    expect(results[0]).toHaveTextContent('создана');
    expect(results[0]).toHaveTextContent('Запись Contact: c-1');
    expect(await screen.findByText('Контакт')).toBeInTheDocument();
    expect(results[1]).toHaveTextContent('найдена');
    expect(results[1]).toHaveTextContent('matched by Email');
    expect(results[2]).toHaveTextContent('ошибка');
    expect(results[2]).toHaveTextContent('Ответ bpm\'online: Поле «Тема» должно быть заполнено');
    // The requests are shown as before, once (not twice through the deprecated alias).
    expect(screen.getAllByTestId('operation-step')).toHaveLength(1);
  });

  it("the operation's error names the failed step in the user's language", async () => {
    mockApi({ 'GET /api/v1/operations/o1': { body: stepped }, 'GET /api/v1/bundles/b1': { body: bundle } });
    renderWithProviders(<OperationDetails id="o1" />, { lang: 'ru' });
    await screen.findByTestId('operation-error-text');
    await vi.waitFor(() => expect(screen.getByTestId('operation-error-text')).toHaveTextContent('Шаг «Задача»: bpm refused the record'));
    expect(screen.getByTestId('operation-note')).toHaveAttribute('data-kind', 'error');
  });

  it('shows the data as field tables, what an update changed, the incoming request, decoded URLs and named systems', async () => {
    const body = {
      ...operation('updated', ''),
      source_data: { email: 'anna@example.com' },
      mapped_data: { Email: 'anna@example.com', Name: 'Анна Смит' },
      changes: { Name: ['Анна', 'Анна Смит'] },
      incoming: { method: 'POST', headers: { 'content-type': 'application/json' }, query: '', client: '10.1.2.3', body: '{"email":"anna@example.com"}', received_at: '2026-12-02T12:00:00Z' },
      requests: [
        { attempt: 1, position: 0, system: 'bpmonline', method: 'GET', url: 'https://crm.example/0/odata/Contact?%24filter=Email%20eq%20%27anna%40example.com%27', request_headers: null, request_body: null, status: 200, response_body: '{}', duration_ms: 5, error: null, started_at: '2026-12-02T12:00:00Z' },
      ],
    };
    mockApi({ 'GET /api/v1/operations/o1': { body }, 'GET /api/v1/apps': { body: { items: [] } } });
    renderWithProviders(<OperationDetails id="o1" />, { lang: 'ru' });
    const sent = await screen.findByTestId('operation-sent');
    expect(sent).toHaveTextContent('Отправлено в bpm\'online');
    expect(sent).toHaveTextContent('NameАнна Смит');
    const changes = screen.getByTestId('operation-changes');
    expect(changes).toHaveTextContent('Что изменилось');
    expect(changes).toHaveTextContent('NameАннаАнна Смит');
    expect(screen.getByTestId('operation-incoming')).toHaveTextContent('10.1.2.3');
    expect(screen.getByTestId('step-url')).toHaveTextContent("$filter=Email eq 'anna@example.com'");
    expect(screen.getByTestId('step-system')).toHaveTextContent("bpm'online");
    screen.getByTestId('operation-sent-toggle').click();
    expect(await screen.findByText(/"Name": "Анна Смит"/)).toBeInTheDocument();
  });
});
