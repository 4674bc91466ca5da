import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AuditEntityType, InvitationInput, Role } from '@/api/types';
import { api } from '@/lib/api-client';

const keysKey = ['api-keys'] as const;
const usersKey = ['users'] as const;
const invitationsKey = ['invitations'] as const;
const auditKey = ['audit'] as const;

export function useApiKeys() {
  return useQuery({ queryKey: keysKey, queryFn: async () => (await api.get('/api/v1/api-keys')).items });
}

export function useCreateApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.post('/api/v1/api-keys', { body: { name } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keysKey }),
  });
}

export function useRevokeApiKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete('/api/v1/api-keys/{key_id}', { params: { path: { key_id: id } } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keysKey }),
  });
}

/** The workspace's members (any member may read the list). */
export function useUsers() {
  return useQuery({
    queryKey: usersKey,
    queryFn: async () => (await api.get('/api/v1/users')).items,
  });
}

export function useChangeRole() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) => api.patch('/api/v1/users/{user_id}', { params: { path: { user_id: id } }, body: { role } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: usersKey }),
  });
}

export function useRemoveUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete('/api/v1/users/{user_id}', { params: { path: { user_id: id } } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: usersKey }),
  });
}

/** A password reset link for a member, for the owner to pass on when the server sends no e-mail. */
export function useResetLink() {
  return useMutation({
    mutationFn: (id: string) => api.post('/api/v1/users/{user_id}/reset-link', { params: { path: { user_id: id } } }),
  });
}

/** Pending invitations (not used, not expired, not revoked); owners only. */
export function useInvitations(enabled: boolean) {
  return useQuery({
    queryKey: invitationsKey,
    queryFn: async () => (await api.get('/api/v1/invitations')).items,
    enabled,
  });
}

/** Invites by e-mail; inviting the same address again replaces its pending invitation (a new link). */
export function useInvite() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: InvitationInput) => api.post('/api/v1/invitations', { body }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: invitationsKey }),
  });
}

export function useRevokeInvitation() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete('/api/v1/invitations/{invitation_id}', { params: { path: { invitation_id: id } } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: invitationsKey }),
  });
}

/** The workspace's audit log, newest first, a page of 50 at a time (owners only). */
export function useAuditLog(entityType: AuditEntityType | null) {
  return useInfiniteQuery({
    queryKey: [...auditKey, entityType ?? 'all'],
    queryFn: ({ pageParam }) =>
      api.get('/api/v1/audit', { params: { query: { limit: 50, cursor: pageParam, entity_type: entityType } } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
  });
}
