import { Table } from '@mantine/core';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '@/lib/api-client';
import { renderWithProviders } from '@/test/render';
import { DataTable, type ListQuery } from './DataTable';

const loaded: ListQuery = { isPending: false, isError: false, error: null, refetch: () => undefined };

function list(query: ListQuery, rows: string[] | undefined) {
  return (
    <DataTable query={query} rows={rows} empty={<p>nothing yet</p>} minWidth={300} head={<Table.Th>Name</Table.Th>}>
      {(items) =>
        items.map((name) => (
          <Table.Tr key={name}>
            <Table.Td>{name}</Table.Td>
          </Table.Tr>
        ))
      }
    </DataTable>
  );
}

describe('DataTable', () => {
  it('shows the rows under the header once loaded', () => {
    renderWithProviders(list(loaded, ['alpha', 'beta']));
    expect(screen.getByRole('columnheader', { name: 'Name' })).toBeInTheDocument();
    expect(screen.getAllByRole('row')).toHaveLength(3);
    expect(screen.queryByText('nothing yet')).not.toBeInTheDocument();
  });

  it('shows the empty state, not a table, when there are no rows', () => {
    renderWithProviders(list(loaded, []));
    expect(screen.getByText('nothing yet')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('shows neither table nor empty state while loading', () => {
    renderWithProviders(list({ ...loaded, isPending: true }, undefined));
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    expect(screen.queryByText('nothing yet')).not.toBeInTheDocument();
  });

  it('shows the error with a retry that refetches', async () => {
    const refetch = vi.fn();
    renderWithProviders(list({ ...loaded, isError: true, error: new ApiError(500, 'boom', 'Server fell over'), refetch }, undefined));
    expect(screen.getByRole('alert')).toHaveTextContent('Server fell over');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(refetch).toHaveBeenCalledOnce();
  });
});
