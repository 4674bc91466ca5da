import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderWithProviders } from '@/test/render';
import { ProgressLine } from './TransferPanel';

describe('ProgressLine', () => {
  it('shows how much of a long job is done', () => {
    renderWithProviders(<ProgressLine found={200} processed={50} failed={2} status="running" />);
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '25');
    expect(screen.getByText('running · 50 of 200 processed, 2 failed')).toBeInTheDocument();
  });

  it('in Russian', () => {
    renderWithProviders(<ProgressLine found={10} processed={10} status="done" />, { lang: 'ru' });
    expect(screen.getByText('готово · обработано 10 из 10, ошибок: 0')).toBeInTheDocument();
  });
});
