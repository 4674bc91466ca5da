import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderWithProviders } from '@/test/render';
import { ConnectionState, TestResult } from './TestResult';

const at = new Date(Date.now() - 5 * 60_000).toISOString();

describe('a connection’s test, never green without a check', () => {
  it('a source checked at its first poll reads as not checked, not as working', () => {
    const result = { ok: false, stage: 'unchecked', code: 'connection_checked_at_first_poll', message: 'saved; …', params: {} };
    renderWithProviders(<TestResult result={result} />, { lang: 'ru' });
    expect(screen.getByText('Не проверено')).toBeInTheDocument();
    expect(screen.queryByText('Подключение работает')).not.toBeInTheDocument();
    expect(screen.getByText(/будет проверен при первом опросе/)).toBeInTheDocument();
  });

  it('a real check that passed says what answered', () => {
    renderWithProviders(<TestResult result={{ ok: true, stage: 'done', code: 'url_answered', message: 'x', params: { status: 200 } }} />, { lang: 'ru' });
    expect(screen.getByText('Подключение работает')).toBeInTheDocument();
    expect(screen.getByText('Адрес ответил: HTTP 200')).toBeInTheDocument();
  });
});

describe('a connection’s state in the list', () => {
  it('a failed last test shows as failed, when, and why', () => {
    const test = { ok: false, stage: 'source', code: 'probe_connect_failed', message: 'x', params: { target: 'db:5432', reason: 'refused' }, at };
    renderWithProviders(<ConnectionState test={test} />, { lang: 'ru' });
    expect(screen.getByTestId('connection-state')).toHaveAttribute('data-state', 'failed');
    expect(screen.getByTestId('connection-state')).toHaveTextContent(/ошибка · 5 мин/);
    expect(screen.getByTestId('connection-state-reason')).toHaveTextContent('Не удалось подключиться к db:5432: refused');
  });

  it('a working one shows no reason; a never tested one says so', () => {
    const { unmount } = renderWithProviders(<ConnectionState test={{ ok: true, stage: 'done', message: 'ok', params: {}, at }} />, { lang: 'ru' });
    expect(screen.getByTestId('connection-state')).toHaveAttribute('data-state', 'ok');
    expect(screen.queryByTestId('connection-state-reason')).not.toBeInTheDocument();
    unmount();
    renderWithProviders(<ConnectionState test={null} />, { lang: 'ru' });
    expect(screen.getByTestId('connection-state')).toHaveTextContent('ещё не проверялось');
  });
});
