import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ME, apiError, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { BundleWizardPage } from './BundleWizardPage';

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

const BUNDLE = {
  id: 'b1',
  name: 'Site → Contacts',
  status: 'stopped',
  config_version: 3,
  source: { app: 'webhook', connection_id: null, trigger: 'webhook', config: {} },
  target: { connection_id: 'c1', action: 'create_record', entity: 'Contact' },
  mapping: [
    { target: 'Email', source: 'email' },
    { target: 'MobilePhone', source: 'phone' },
  ],
  // Round 1's shape, as a bundle saved before round 2 comes back.
  dedup: { mode: 'update_if_found', match_fields: ['Email'], update_rules: { Email: 'overwrite', MobilePhone: 'overwrite' } },
  schedule: { interval_minutes: 5 },
};

function api(put: Parameters<typeof mockApi>[0][string] = (body) => ({ body: { ...BUNDLE, ...(body as object) } })) {
  return mockApi({
    'GET /api/v1/auth/me': { body: ME },
    'GET /api/v1/apps': { body: { items: [] } },
    'GET /api/v1/connections': { body: { items: [] } },
    'GET /api/v1/bundles/b1': { body: BUNDLE },
    'GET /api/v1/connections/c1/entities': { body: { items: [] } },
    'GET /api/v1/connections/c1/entities/Contact': { body: { name: 'Contact', fields: [] } },
    'PUT /api/v1/bundles/b1': put,
  });
}

function renderWizard() {
  renderWithProviders(
    <Routes>
      <Route path="/bundles/:bundleId/edit/:step" element={<BundleWizardPage />} />
      <Route path="/bundles/:bundleId/edit/review" element={<div data-testid="review" />} />
    </Routes>,
    { route: '/bundles/b1/edit/dedup' },
  );
}

describe('the wizard on the duplicates step', () => {
  it('loads a round-1 bundle as one group and saves it as match', async () => {
    const user = userEvent.setup();
    const calls = api();
    renderWizard();
    expect(await screen.findByTestId('group-0-field-Email')).toBeChecked();
    expect(screen.queryByTestId('group-1')).toBeNull();
    await user.click(screen.getByTestId('wizard-next'));
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect((calls.find((c) => c.method === 'PUT')!.body as { steps: Array<{ dedup: unknown }> }).steps[0]!.dedup).toEqual({
      mode: 'update_if_found',
      match: [{ fields: ['Email'] }],
      compare: { Email: { as: 'email', gmail: false } },
      on_several: 'newest',
      update_rules: { Email: 'overwrite', MobilePhone: 'overwrite' },
    });
  });

  it('a validation message goes once the problem is fixed (issue #20, item 9)', async () => {
    const user = userEvent.setup();
    const calls = api();
    renderWizard();
    await user.click(await screen.findByRole('button', { name: 'Delete group 1' }));
    await user.click(screen.getByTestId('wizard-next'));
    expect(await screen.findByTestId('dedup-match-error')).toHaveTextContent('Choose at least one field to search by');
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);
    // Another edit that does not fix it: the message stays.
    await user.click(screen.getByLabelText('Update the oldest'));
    expect(screen.getByTestId('dedup-match-error')).toBeInTheDocument();
    await user.click(screen.getByTestId('add-group'));
    await user.click(screen.getByTestId('group-0-field-MobilePhone'));
    expect(screen.queryByTestId('dedup-match-error')).toBeNull();
  });

  it("a server's message on a field goes once that field is changed", async () => {
    const user = userEvent.setup();
    api(apiError(422, 'validation_error', 'invalid', [{ field: 'body.dedup.update_rules.Email', message: 'keep is not allowed for a match field' }]));
    renderWizard();
    await user.click(await screen.findByTestId('wizard-next'));
    const row = screen.getByTestId('rule-Email');
    expect(await within(row).findByText('keep is not allowed for a match field')).toBeInTheDocument();
    await user.click(within(screen.getByTestId('rule-MobilePhone')).getByText('Keep'));
    expect(within(row).getByText('keep is not allowed for a match field')).toBeInTheDocument();
    await user.click(within(row).getByText('Fill if empty'));
    expect(within(row).queryByText('keep is not allowed for a match field')).toBeNull();
  });
});
