import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import type { Bundle, PreviewInput, SampleInput } from '@/api/types';
import { api } from '@/lib/api-client';
import type { BundleBody } from './dedup';

export const bundleKeys = {
  all: ['bundles'] as const,
  list: () => [...bundleKeys.all, 'list'] as const,
  one: (id: string) => [...bundleKeys.all, 'one', id] as const,
  sample: (id: string) => [...bundleKeys.all, 'sample', id] as const,
};

type Schemas = components['schemas'];

/** The schema leaves `status` and the stored `mapping` open; the api sends what `Bundle` says. */
const asBundle = (b: Schemas['BundleOut']): Bundle => b as unknown as Bundle;

/**
 * The wizard's body as the schema's: the api takes a conversion step as a bare name with default
 * arguments, which the schema does not say (see `BundleInput`); and its `dedup` is round 2's (see `./dedup`).
 */
const asBundleIn = (body: BundleBody): Schemas['BundleIn'] => body as unknown as Schemas['BundleIn'];

export function useBundles(options: { refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: bundleKeys.list(),
    queryFn: async () => (await api.get('/api/v1/bundles', { params: { query: { limit: 500 } } })).items.map(asBundle),
    refetchInterval: options.refetchInterval,
  });
}

export function useBundle(id: string | undefined, refetchInterval?: (b: Bundle | undefined) => number | false) {
  return useQuery({
    queryKey: bundleKeys.one(id ?? ''),
    queryFn: () => api.get('/api/v1/bundles/{bundle_id}', { params: { path: { bundle_id: id! } } }).then(asBundle),
    enabled: !!id,
    refetchInterval: refetchInterval ? (q) => refetchInterval(q.state.data) : undefined,
  });
}

export function useSaveBundle() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id?: string; body: BundleBody }) =>
      (id
        ? api.put('/api/v1/bundles/{bundle_id}', { params: { path: { bundle_id: id } }, body: asBundleIn(body) })
        : api.post('/api/v1/bundles', { body: asBundleIn(body) })
      ).then(asBundle),
    onSuccess: (b) => {
      qc.setQueryData(bundleKeys.one(b.id), b);
      void qc.invalidateQueries({ queryKey: bundleKeys.list() });
    },
  });
}

/**
 * A webhook URL's own limit (null: the default), saved through the bundle update with the bundle's
 * stored configuration as it reads (nothing else changes: no new version; secrets left out are kept).
 */
export function useSetWebhookLimit(bundle: Bundle) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (limit: number | null) => {
      const { name, source, steps, filter, schedule } = bundle;
      const body = { name, source, steps, filter, ...(schedule ? { schedule } : {}), webhook_rate_per_minute: limit };
      return api
        .put('/api/v1/bundles/{bundle_id}', { params: { path: { bundle_id: bundle.id } }, body: body as Schemas['BundleIn'] })
        .then(asBundle);
    },
    onSuccess: (b) => {
      qc.setQueryData(bundleKeys.one(b.id), b);
      void qc.invalidateQueries({ queryKey: bundleKeys.list() });
    },
  });
}

export function useDeleteBundle() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete('/api/v1/bundles/{bundle_id}', { params: { path: { bundle_id: id } } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: bundleKeys.all }),
  });
}

export function useStartStop() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action, held }: { id: string; action: 'start' | 'stop'; held?: 'process' | 'discard' }) => {
      const path = { params: { path: { bundle_id: id } } };
      // Without a body the api processes held events (the default).
      const answer =
        action === 'stop'
          ? api.post('/api/v1/bundles/{bundle_id}/stop', path)
          : api.post('/api/v1/bundles/{bundle_id}/start', held ? { ...path, body: { held } } : path);
      return answer.then(asBundle);
    },
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
    queryFn: () => api.get('/api/v1/bundles/{bundle_id}/sample', { params: { path: { bundle_id: id! } } }),
    enabled: !!id,
    refetchInterval: (q) => (waiting && !q.state.data?.sample ? 1500 : false),
  });
}

/** Arms capture mode (the next webhook request becomes the sample) or sets the sample directly. */
export function useSetSample(id: string | undefined) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: SampleInput) => api.post('/api/v1/bundles/{bundle_id}/sample', { params: { path: { bundle_id: id! } }, body }),
    onSuccess: (s) => qc.setQueryData(bundleKeys.sample(id ?? ''), s),
  });
}

/** The saved mapping applied to an item (default: the sample) by the api; nothing is sent. */
export function usePreview(id: string | undefined) {
  return useMutation({
    mutationFn: (body: PreviewInput = {}) => api.post('/api/v1/bundles/{bundle_id}/preview', { params: { path: { bundle_id: id! } }, body }),
  });
}

/** Transfers existing source data (polling sources); progress is in the bundle's `polling.backfill`. */
export function useBackfill(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (since: string | null) =>
      api.post('/api/v1/bundles/{bundle_id}/backfill', { params: { path: { bundle_id: id } }, body: since ? { since } : {} }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: bundleKeys.all }),
  });
}

export function useUploadImport(id: string) {
  return useMutation({
    mutationFn: (file: File) =>
      api.post('/api/v1/bundles/{bundle_id}/import', {
        params: { path: { bundle_id: id } },
        body: { file },
        // multipart/form-data; the browser sets the boundary.
        bodySerializer: ({ file }) => {
          const form = new FormData();
          form.append('file', file);
          return form;
        },
      }),
  });
}

const DONE = new Set(['done', 'failed', 'finished', 'error', 'cancelled']);

export function useImport(importId: string | null) {
  return useQuery({
    queryKey: ['imports', importId],
    queryFn: () => api.get('/api/v1/imports/{import_id}', { params: { path: { import_id: importId! } } }),
    enabled: !!importId,
    refetchInterval: (q) => (q.state.data && DONE.has(q.state.data.status) ? false : 1000),
  });
}
