import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Me } from '@/api/types';
import { api, isApiError } from '@/lib/api-client';

export const meKey = ['auth', 'me'] as const;

export function useMe() {
  return useQuery({
    queryKey: meKey,
    queryFn: async (): Promise<Me | null> => {
      try {
        return await api.get<Me>('/api/v1/auth/me');
      } catch (e) {
        if (isApiError(e, 401)) return null;
        throw e;
      }
    },
    staleTime: 60_000,
  });
}

export function useLogin() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; password: string }) => api.post<unknown>('/api/v1/auth/login', body),
    onSuccess: async () => {
      qc.clear();
      await qc.fetchQuery({ queryKey: meKey, queryFn: () => api.get<Me>('/api/v1/auth/me') });
    },
  });
}

export function useLogout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<unknown>('/api/v1/auth/logout'),
    onSettled: () => {
      qc.clear();
      qc.setQueryData(meKey, null);
    },
  });
}

/** What the signed-in role may do; the server enforces the same rules. */
export function usePermissions() {
  const { data } = useMe();
  const role = data?.role ?? 'viewer';
  return { role, canWrite: role === 'owner' || role === 'editor', isOwner: role === 'owner' };
}
