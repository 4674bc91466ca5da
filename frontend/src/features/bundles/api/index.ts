import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { BackfillProgress, Bundle, BundleInput, ImportProgress, Page, PreviewResult, Sample } from '@/api/types';
import { api } from '@/lib/api-client';

export const bundleKeys = {
  all: ['bundles'] as const,
  list: () => [...bundleKeys.all, 'list'] as const,
  one: (id: string) => [...bundleKeys.all, 'one', id] as const,
  sample: (id: string) => [...bundleKeys.all, 'sample', id] as const,
};

export function useBundles(options: { refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: bundleKeys.list(),
    queryFn: async () => (await api.get<Page<Bundle>>('/api/v1/bundles', { limit: 500 })).items,
    refetchInterval: options.refetchInterval,
  });
}

export function useBundle(id: string | undefined, refetchInterval?: (b: Bundle | undefined) => number | false) {
  return useQuery({
    queryKey: bundleKeys.one(id ?? ''),
    queryFn: () => api.get<Bundle>(`/api/v1/bundles/${id}`),
    enabled: !!id,
    refetchInterval: refetchInterval ? (q) => refetchInterval(q.state.data) : undefined,
  });
}

export function useSaveBundle() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id?: string; body: BundleInput }) =>
      id ? api.put<Bundle>(`/api/v1/bundles/${id}`, body) : api.post<Bundle>('/api/v1/bundles', body),
    onSuccess: (b) => {
      qc.setQueryData(bundleKeys.one(b.id), b);
      void qc.invalidateQueries({ queryKey: bundleKeys.list() });
    },
  });
}

export function useDeleteBundle() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/v1/bundles/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: bundleKeys.all }),
  });
}

export function useStartStop() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action, held }: { id: string; action: 'start' | 'stop'; held?: 'process' | 'discard' }) =>
      api.post<Bundle>(`/api/v1/bundles/${id}/${action}`, held ? { held } : {}),
    onSuccess: (b, vars) => {
      if (b && typeof b === 'object' && 'id' in b) qc.setQueryData(bundleKeys.one(b.id), b);
      void qc.invalidateQueries({ queryKey: bundleKeys.list() });
      void qc.invalidateQueries({ queryKey: bundleKeys.one(vars.id) });
    },
  });
}

/** The bundle's sample; polls while a webhook sample is being captured. */
export function useSample(id: string | undefined, waiting: boolean) {
  return useQuery({
    queryKey: bundleKeys.sample(id ?? ''),
    queryFn: () => api.get<Sample>(`/api/v1/bundles/${id}/sample`),
    enabled: !!id,
    refetchInterval: (q) => (waiting && !q.state.data?.sample ? 1500 : false),
  });
}

/** Arms capture mode (the next webhook request becomes the sample) or sets the sample directly. */
export function useSetSample(id: string | undefined) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { capture?: boolean; item?: Record<string, unknown> }) => api.post<Sample>(`/api/v1/bundles/${id}/sample`, body),
    onSuccess: (s) => qc.setQueryData(bundleKeys.sample(id ?? ''), s),
  });
}

/** The saved mapping applied to an item (default: the sample) by the api; nothing is sent. */
export function usePreview(id: string | undefined) {
  return useMutation({
    mutationFn: (body: { item?: Record<string, unknown> } = {}) => api.post<PreviewResult>(`/api/v1/bundles/${id}/preview`, body),
  });
}

/** Transfers existing source data (polling sources); progress is in the bundle's `polling.backfill`. */
export function useBackfill(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (since: string | null) =>
      api.post<{ job_id: string; backfill: BackfillProgress }>(`/api/v1/bundles/${id}/backfill`, since ? { since } : {}),
    onSuccess: () => void qc.invalidateQueries({ queryKey: bundleKeys.all }),
  });
}

export function useUploadImport(id: string) {
  return useMutation({
    mutationFn: (file: File) => {
      const form = new FormData();
      form.append('file', file);
      return api.upload<ImportProgress & { job_id: string }>(`/api/v1/bundles/${id}/import`, form);
    },
  });
}

const DONE = new Set(['done', 'failed', 'finished', 'error', 'cancelled']);

export function useImport(importId: string | null) {
  return useQuery({
    queryKey: ['imports', importId],
    queryFn: () => api.get<ImportProgress>(`/api/v1/imports/${importId}`),
    enabled: !!importId,
    refetchInterval: (q) => (q.state.data && DONE.has(q.state.data.status) ? false : 1000),
  });
}
