import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  App,
  AppAction,
  AppField,
  AppTrigger,
  Connection,
  ConnectionInput,
  ConnectionTestResult,
  EntityDetail,
  EntityField,
  EntitySummary,
  Page,
} from '@/api/types';
import { api } from '@/lib/api-client';

export const connectionKeys = {
  all: ['connections'] as const,
  list: () => [...connectionKeys.all, 'list'] as const,
  one: (id: string) => [...connectionKeys.all, 'one', id] as const,
  entities: (id: string) => [...connectionKeys.all, 'entities', id] as const,
  entity: (id: string, entity: string) => [...connectionKeys.all, 'entity', id, entity] as const,
};

function items<T>(data: Page<T> | T[] | { items?: T[] } | undefined | null): T[] {
  if (!data) return [];
  if (Array.isArray(data)) return data;
  return data.items ?? [];
}

type RawField = AppField & { show_if?: Record<string, unknown> | null };
type RawApp = Omit<App, 'name' | 'triggers' | 'actions' | 'connection_fields'> & {
  name?: string;
  key?: string;
  connection_fields?: RawField[];
  triggers?: Array<AppTrigger & { key?: string; config_fields?: RawField[] }>;
  actions?: Array<AppAction & { key?: string }>;
};

function field(f: RawField): AppField {
  const showIf = f.visible_if ?? (f.show_if ? Object.fromEntries(Object.entries(f.show_if).map(([k, v]) => [k, [v]])) : null);
  return { ...f, visible_if: showIf };
}

/** The catalog as the SPA uses it (`name` for the key, trigger fields under `fields`). */
export function normalizeApp(a: RawApp): App {
  return {
    ...a,
    name: a.name ?? a.key ?? '',
    connection_fields: (a.connection_fields ?? []).map(field),
    triggers: (a.triggers ?? []).map((t) => ({ ...t, name: t.name ?? t.key ?? '', fields: (t.fields ?? t.config_fields ?? []).map(field) })),
    actions: (a.actions ?? []).map((x) => ({ ...x, name: x.name ?? x.key ?? '' })),
  };
}

export function useApps() {
  return useQuery({
    queryKey: ['apps'],
    queryFn: async () => items(await api.get<Page<RawApp> | RawApp[]>('/api/v1/apps')).map(normalizeApp),
    staleTime: 5 * 60_000,
  });
}

export function useConnections() {
  return useQuery({
    queryKey: connectionKeys.list(),
    queryFn: async () => items(await api.get<Page<Connection>>('/api/v1/connections', { limit: 500 })),
  });
}

export function useConnection(id: string | undefined) {
  return useQuery({
    queryKey: connectionKeys.one(id ?? ''),
    queryFn: () => api.get<Connection>(`/api/v1/connections/${id}`),
    enabled: !!id,
  });
}

export function useSaveConnection(id?: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: ConnectionInput) =>
      id ? api.patch<Connection>(`/api/v1/connections/${id}`, body) : api.post<Connection>('/api/v1/connections', body),
    onSuccess: (conn) => {
      qc.setQueryData(connectionKeys.one(conn.id), conn);
      void qc.invalidateQueries({ queryKey: connectionKeys.all });
    },
  });
}

export function useDeleteConnection() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/v1/connections/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: connectionKeys.all }),
  });
}

export function useTestConnection() {
  return useMutation({
    mutationFn: (id: string) => api.post<ConnectionTestResult>(`/api/v1/connections/${id}/test`),
  });
}

export function useEntities(connectionId: string | null | undefined) {
  return useQuery({
    queryKey: connectionKeys.entities(connectionId ?? ''),
    queryFn: async () => {
      const data = await api.get<Page<EntitySummary | string> | Array<EntitySummary | string>>(
        `/api/v1/connections/${connectionId}/entities`,
      );
      return items(data).map((e) => (typeof e === 'string' ? { name: e } : e));
    },
    enabled: !!connectionId,
    staleTime: 5 * 60_000,
  });
}

export function useEntityFields(connectionId: string | null | undefined, entity: string | null | undefined) {
  return useQuery({
    queryKey: connectionKeys.entity(connectionId ?? '', entity ?? ''),
    queryFn: async (): Promise<EntityField[]> => {
      const data = await api.get<EntityDetail | Page<EntityField> | EntityField[]>(
        `/api/v1/connections/${connectionId}/entities/${encodeURIComponent(entity ?? '')}`,
      );
      if (Array.isArray(data)) return data;
      if ('fields' in data) return data.fields;
      return data.items ?? [];
    },
    enabled: !!connectionId && !!entity,
    staleTime: 5 * 60_000,
  });
}
