import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ApiKey, ApiKeyCreated, AuditEntityType, AuditEntry, Invitation, Page, ResetLink, Role, WorkspaceUser } from '@/api/types';
import { api } from '@/lib/api-client';

const keysKey = ['api-keys'] as const;
const usersKey = ['users'] as const;
const invitationsKey = ['invitations'] as const;
const auditKey = ['audit'] as const;

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

/** The workspace's members (any member may read the list). */
export function useUsers() {
  return useQuery({
    queryKey: usersKey,
    queryFn: async () => (await api.get<Page<WorkspaceUser>>('/api/v1/users', { limit: 500 })).items,
  });
}

export function useChangeRole() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) => api.patch<void>(`/api/v1/users/${id}`, { role }),
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

/** A password reset link for a member, for the owner to pass on when the server sends no e-mail. */
export function useResetLink() {
  return useMutation({
    mutationFn: (id: string) => api.post<ResetLink>(`/api/v1/users/${id}/reset-link`),
  });
}

/** Pending invitations (not used, not expired, not revoked); owners only. */
export function useInvitations(enabled: boolean) {
  return useQuery({
    queryKey: invitationsKey,
    queryFn: async () => (await api.get<{ items: Invitation[] }>('/api/v1/invitations')).items,
    enabled,
  });
}

/** Invites by e-mail; inviting the same address again replaces its pending invitation (a new link). */
export function useInvite() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; role: Role }) => api.post<Invitation>('/api/v1/invitations', body),
    onSuccess: () => void qc.invalidateQueries({ queryKey: invitationsKey }),
  });
}

export function useRevokeInvitation() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete(`/api/v1/invitations/${id}`),
    onSuccess: () => void qc.invalidateQueries({ queryKey: invitationsKey }),
  });
}

/** The workspace's audit log, newest first, a page of 50 at a time (owners only). */
export function useAuditLog(entityType: AuditEntityType | null) {
  return useInfiniteQuery({
    queryKey: [...auditKey, entityType ?? 'all'],
    queryFn: ({ pageParam }) =>
      api.get<Page<AuditEntry>>('/api/v1/audit', { limit: 50, cursor: pageParam, entity_type: entityType }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
}
