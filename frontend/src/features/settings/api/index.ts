import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ApiKey, ApiKeyCreated, Page, Role, WorkspaceUser } from '@/api/types';
import { api } from '@/lib/api-client';

const keysKey = ['api-keys'] as const;
const usersKey = ['users'] as const;

export function useApiKeys() {
  return useQuery({ queryKey: keysKey, queryFn: async () => (await api.get<Page<ApiKey>>('/api/v1/api-keys', { limit: 500 })).items });
}

export function useCreateApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.post<ApiKeyCreated>('/api/v1/api-keys', { name }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keysKey }),
  });
}

export function useRevokeApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/v1/api-keys/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keysKey }),
  });
}

export function useUsers(enabled: boolean) {
  return useQuery({
    queryKey: usersKey,
    queryFn: async () => (await api.get<Page<WorkspaceUser>>('/api/v1/users', { limit: 500 })).items,
    enabled,
  });
}

export function useInviteUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; password: string; role: Role; name?: string }) => api.post<WorkspaceUser>('/api/v1/users', body),
    onSuccess: () => void qc.invalidateQueries({ queryKey: usersKey }),
  });
}

export function useChangeRole() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) => api.patch<WorkspaceUser>(`/api/v1/users/${id}`, { role }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: usersKey }),
  });
}

export function useRemoveUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/v1/users/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: usersKey }),
  });
}
