import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import type { App, AppField, ConnectionInput, EntityField, EntitySummary } from '@/api/types';
import i18n from '@/i18n';
import { api } from '@/lib/api-client';

export const connectionKeys = {
  all: ['connections'] as const,
  list: () => [...connectionKeys.all, 'list'] as const,
  one: (id: string) => [...connectionKeys.all, 'one', id] as const,
  entities: (id: string) => [...connectionKeys.all, 'entities', id] as const,
  entity: (id: string, entity: string) => [...connectionKeys.all, 'entity', id, entity] as const,
  values: (id: string, entity: string) => [...connectionKeys.all, 'values', id, entity] as const,
};

type Schemas = components['schemas'];

function field(f: Schemas['FormField']): AppField {
  return { ...f, visible_if: f.show_if ? Object.fromEntries(Object.entries(f.show_if).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])) : null };
}

/** The catalog as the SPA uses it (`name` for the key, form fields with `visible_if`). */
export function normalizeApp(a: Schemas['App']): App {
  return {
    ...a,
    name: a.key,
    connection_fields: (a.connection_fields ?? []).map(field),
    triggers: (a.triggers ?? []).map((t) => ({ ...t, name: t.key, config_fields: (t.config_fields ?? []).map(field) })),
    actions: (a.actions ?? []).map((x) => ({ ...x, name: x.key })),
  };
}

export function useApps() {
  return useQuery({
    queryKey: ['apps'],
    queryFn: async () => (await api.get('/api/v1/apps')).items.map(normalizeApp),
    staleTime: 5 * 60_000,
  });
}

export function useConnections() {
  return useQuery({
    queryKey: connectionKeys.list(),
    queryFn: async () => (await api.get('/api/v1/connections', { params: { query: { limit: 500 } } })).items,
  });
}

export function useConnection(id: string | undefined) {
  return useQuery({
    queryKey: connectionKeys.one(id ?? ''),
    queryFn: () => api.get('/api/v1/connections/{connection_id}', { params: { path: { connection_id: id! } } }),
    enabled: !!id,
  });
}

export function useSaveConnection(id?: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ app, ...changes }: ConnectionInput) =>
      id // a connection's app never changes, and the update refuses fields it does not take
        ? api.patch('/api/v1/connections/{connection_id}', { params: { path: { connection_id: id } }, body: changes })
        : api.post('/api/v1/connections', { body: { app, ...changes } }),
    onSuccess: (conn) => {
      qc.setQueryData(connectionKeys.one(conn.id), conn);
      void qc.invalidateQueries({ queryKey: connectionKeys.all });
    },
  });
}

export function useDeleteConnection() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete('/api/v1/connections/{connection_id}', { params: { path: { connection_id: id } } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: connectionKeys.all }),
  });
}

export function useTestConnection() {
  return useMutation({
    mutationFn: (id: string) => api.post('/api/v1/connections/{connection_id}/test', { params: { path: { connection_id: id } } }),
  });
}

export type LookupValue = components['schemas']['LookupValue'];

/** A lookup table's records (Id, Name) on a connection, for a picker: they come in the instance's language. */
export function useLookupValues(connectionId: string | null | undefined, entity: string) {
  return useQuery({
    queryKey: connectionKeys.values(connectionId ?? '', entity),
    queryFn: async (): Promise<LookupValue[]> =>
      (
        await api.get('/api/v1/connections/{connection_id}/entities/{entity}/values', {
          params: { path: { connection_id: connectionId!, entity }, query: { limit: 200 } },
        })
      ).items,
    enabled: !!connectionId,
    staleTime: 5 * 60_000,
    retry: false,
  });
}

export function useEntities(connectionId: string | null | undefined) {
  return useQuery({
    // The captions are in the reader's language: another language is another answer.
    queryKey: [...connectionKeys.entities(connectionId ?? ''), i18n.language],
    queryFn: async (): Promise<EntitySummary[]> =>
      (await api.get('/api/v1/connections/{connection_id}/entities', { params: { path: { connection_id: connectionId! } } })).items,
    enabled: !!connectionId,
    staleTime: 5 * 60_000,
  });
}

/** An entity's columns on a connection, as a query (`useQueries` reads several: the columns of earlier bundle steps). */
export function entityFieldsQuery(connectionId: string | null | undefined, entity: string | null | undefined) {
  return {
    queryKey: [...connectionKeys.entity(connectionId ?? '', entity ?? ''), i18n.language],
    queryFn: async (): Promise<EntityField[]> =>
      (await api.get('/api/v1/connections/{connection_id}/entities/{entity}', { params: { path: { connection_id: connectionId!, entity: entity! } } }))
        .fields,
    enabled: !!connectionId && !!entity,
    staleTime: 5 * 60_000,
  };
}

export function useEntityFields(connectionId: string | null | undefined, entity: string | null | undefined) {
  return useQuery(entityFieldsQuery(connectionId, entity));
}
