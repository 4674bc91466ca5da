import { Menu } from '@mantine/core';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Me } from '@/api/types';
import { meKey } from '@/features/auth/api';
import { ME, mockApi } from '@/test/api';
import { renderWithProviders } from '@/test/render';
import { WorkspaceItems } from './WorkspaceSwitcher';

afterEach(() => vi.unstubAllGlobals());

function renderMenu() {
  const result = renderWithProviders(
    <Menu opened>
      <Menu.Target>
        <button type="button">menu</button>
      </Menu.Target>
      <Menu.Dropdown>
        <WorkspaceItems me={ME as Me} onCreate={() => {}} />
      </Menu.Dropdown>
    </Menu>,
  );
  return result;
}

describe('WorkspaceItems', () => {
  it('lists the workspaces with roles, the current one marked', () => {
    mockApi({});
    renderMenu();
    const items = screen.getAllByTestId('workspace-item');
    expect(items.map((i) => i.textContent)).toEqual(['AcmeOwner', 'Side projectViewer']);
  });

  it('switching drops every cached answer of the old workspace', async () => {
    const switched = { ...ME, workspace: ME.workspaces[1], role: 'viewer' };
    const calls = mockApi({ 'POST /api/v1/auth/switch': { body: switched } });
    const user = userEvent.setup();
    const { queryClient } = renderMenu();
    queryClient.setQueryData(['connections'], [{ id: 'c1', name: 'Acme CRM' }]);
    queryClient.setQueryData(meKey, ME);
    await user.click(screen.getByText('Side project'));
    await waitFor(() => expect(queryClient.getQueryData(meKey)).toEqual(switched));
    expect(queryClient.getQueryData(['connections'])).toBeUndefined();
    expect(calls).toEqual([{ method: 'POST', path: '/api/v1/auth/switch', body: { workspace_id: 'w2' } }]);
  });
});
