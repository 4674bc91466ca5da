import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { OperationStatus } from '@/api/types';
import { api } from '@/lib/api-client';

export interface HistoryFilter {
  /** '' for every bundle of the workspace. */
  bundleId: string;
  /** A value to find (an e-mail, a phone, a record Id), across the bundles. */
  q?: string;
  statuses: OperationStatus[];
  /** ISO time; only operations created after it. */
  from?: string;
}

export const historyKeys = {
  all: ['operations'] as const,
  list: (f: HistoryFilter) => [...historyKeys.all, 'list', f] as const,
  one: (id: string) => [...historyKeys.all, 'one', id] as const,
};

export function useOperations(filter: HistoryFilter, refetchInterval: number | false) {
  return useInfiniteQuery({
    queryKey: historyKeys.list(filter),
    queryFn: ({ pageParam }) =>
      api.get('/api/v1/operations', {
        params: {
          query: {
            bundle_id: filter.bundleId || undefined,
            q: filter.q || undefined,
            status: filter.statuses,
            since: filter.from,
            cursor: pageParam,
            limit: 50,
          },
        },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval,
    placeholderData: keepPreviousData,
  });
}

export function useOperation(id: string, refetch: boolean) {
  return useQuery({
    queryKey: historyKeys.one(id),
    queryFn: () => api.get('/api/v1/operations/{operation_id}', { params: { path: { operation_id: id } } }),
    refetchInterval: refetch ? 3000 : false,
  });
}

export function useReplay() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (ids: string[]) => {
      const results = await Promise.allSettled(ids.map((id) => api.post('/api/v1/operations/{operation_id}/replay', { params: { path: { operation_id: id } } })));
      return { ok: results.filter((r) => r.status === 'fulfilled').length, failed: results.filter((r) => r.status === 'rejected').length };
    },
    onSuccess: () => void qc.invalidateQueries({ queryKey: historyKeys.all }),
  });
}

/** Replays every failed operation of a bundle (the api's bulk replay). */
export function useReplayFailed() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (bundleId: string) => api.post('/api/v1/bundles/{bundle_id}/operations/replay', { params: { path: { bundle_id: bundleId } } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: historyKeys.all }),
  });
}

/** Runs a parked operation's next slow try now (`retrying` with a `next_attempt_at`). */
export function useRetryNow() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post('/api/v1/operations/{operation_id}/retry-now', { params: { path: { operation_id: id } } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: historyKeys.all }),
  });
}

/**
 * The bundle's latest test request (a sender checking the URL; kept in history, never pushed), polled
 * while the wizard waits for the first request. Read from the newest operations rather than by a
 * status filter, so it works before the api's status list names `test`.
 */
export function useTestRequest(bundleId: string | undefined, waiting: boolean) {
  return useQuery({
    queryKey: [...historyKeys.all, 'test-request', bundleId ?? ''],
    queryFn: async () => {
      const page = await api.get('/api/v1/bundles/{bundle_id}/operations', { params: { path: { bundle_id: bundleId! }, query: { limit: 20 } } });
      return page.items.find((op) => op.status === 'test') ?? null;
    },
    enabled: !!bundleId,
    refetchInterval: (q) => (waiting && !q.state.data ? 1500 : false),
  });
}
