import { Card, Skeleton, Table, type TableProps } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import type { ReactNode } from 'react';
import './DataTable.css';
import { ErrorState } from './ErrorState';

/** The parts of a TanStack query result a list needs. */
export interface ListQuery {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

export interface DataTableProps<T> extends Omit<TableProps, 'children'> {
  query: ListQuery;
  /** The rows to show; undefined while nothing is loaded. */
  rows: readonly T[] | undefined;
  /** The header row's cells; no header when omitted. */
  head?: ReactNode;
  /** The body rows, given only when there is at least one. */
  children: (rows: readonly T[]) => ReactNode;
  /** Shown once loaded with no rows (nothing when omitted). */
  empty?: ReactNode;
  /** The table scrolls sideways below this width. */
  minWidth: number;
  /** The skeleton's height while loading; 0 shows none. */
  loadingHeight?: number;
  /** Whether the error offers "retry". */
  retry?: boolean;
  /** Below the table, inside its card (e.g. "load more"). */
  footer?: ReactNode;
  /** False when the table sits in a card of its own already. */
  card?: boolean;
  /** At phone width each row is a card (its cells one under another) rather than a sideways-scrolling table. */
  phoneCards?: boolean;
}

/** One list's states in one place: the error (with retry), a skeleton, the empty state, the table. */
export function DataTable<T>({
  query,
  rows,
  head,
  children,
  empty,
  minWidth,
  loadingHeight = 160,
  retry = true,
  footer,
  card = true,
  phoneCards = false,
  ...tableProps
}: DataTableProps<T>) {
  const cards = useMediaQuery('(max-width: 48em)') && phoneCards;
  const table = !!rows?.length && (
    <>
      <Table.ScrollContainer minWidth={cards ? 0 : minWidth}>
        <Table {...tableProps} className={phoneCards ? 'data-table-cards' : undefined}>
          {head && (
            <Table.Thead>
              <Table.Tr>{head}</Table.Tr>
            </Table.Thead>
          )}
          <Table.Tbody>{children(rows)}</Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {footer}
    </>
  );
  return (
    <>
      {query.isError && <ErrorState error={query.error} onRetry={retry ? () => void query.refetch() : undefined} />}
      {query.isPending && loadingHeight > 0 && <Skeleton h={loadingHeight} />}
      {!query.isPending && !query.isError && rows?.length === 0 && empty}
      {table && (card ? <Card padding={0}>{table}</Card> : table)}
    </>
  );
}
