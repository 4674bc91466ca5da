import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActivityOptions } from '@/api/types';
import { mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { ActivityOptionsEditor } from './ActivityOptionsEditor';
import { ACTIVITY_DEFAULTS } from './stepsModel';

afterEach(() => vi.unstubAllGlobals());

const OPTIONS: ActivityOptions = { ...ACTIVITY_DEFAULTS, start_in_minutes: 0, due_in_minutes: 120, participants: [] };
const VALUES = '/api/v1/connections/c1/entities/{table}/values';
const status = (items: Array<{ id: string; name: string }>) => ({ body: { items, more: false } });

describe('a task step\'s lookups', () => {
  it('offer the instance\'s values by name, the default preselected, and pick another', async () => {
    mockApi({
      [`GET ${VALUES.replace('{table}', 'ActivityStatus')}`]: status([
        { id: ACTIVITY_DEFAULTS.status_id, name: 'Не начата' },
        { id: '11111111-2222-3333-4444-555555555555', name: 'В работе' },
      ]),
      [`GET ${VALUES.replace('{table}', 'ActivityType')}`]: status([{ id: ACTIVITY_DEFAULTS.type_id, name: 'Задача' }]),
      [`GET ${VALUES.replace('{table}', 'ActivityCategory')}`]: status([]),
      [`GET ${VALUES.replace('{table}', 'ActivityPriority')}`]: status([]),
    });
    const onChange = vi.fn();
    const user = userEvent.setup();
    renderWithProviders(<ActivityOptionsEditor value={OPTIONS} onChange={onChange} contacts={[]} connectionId="c1" />, {
      lang: 'ru',
    });
    expect(await screen.findByDisplayValue('Не начата')).toBeInTheDocument();
    await user.click(screen.getByTestId('activity-status_id'));
    await user.click(await screen.findByRole('option', { name: 'В работе' }));
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ status_id: '11111111-2222-3333-4444-555555555555' }));
  });

  it('fall back to the Id as text without an answer from the instance', () => {
    mockApi({});
    renderWithProviders(<ActivityOptionsEditor value={OPTIONS} onChange={vi.fn()} contacts={[]} />, { lang: 'ru' });
    expect(screen.getByTestId('activity-status_id')).toHaveValue(ACTIVITY_DEFAULTS.status_id);
  });
});
