import { type QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  AuthConfig,
  InvitationPreview,
  Language,
  Me,
  PasswordForgotResult,
  ProfileInput,
  SignupInput,
  SignupResult,
} from '@/api/types';
import i18n, { LANGUAGES, currentLanguage } from '@/i18n';
import { api, isApiError } from '@/lib/api-client';
import { browserTimeZone } from '@/lib/format';

export const meKey = ['auth', 'me'] as const;
const configKey = ['auth', 'config'] as const;

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

/** What the operator allows: sign-up mode, whether e-mail goes out. Public. */
export function useAuthConfig() {
  return useQuery({
    queryKey: configKey,
    queryFn: () => api.get<AuthConfig>('/api/v1/auth/config'),
    staleTime: 5 * 60_000,
  });
}

function applyLanguage(language: string | undefined) {
  if (language && (LANGUAGES as readonly string[]).includes(language) && language !== currentLanguage()) {
    void i18n.changeLanguage(language);
  }
}

/**
 * A new session (login, workspace switch, accepted invitation): nothing cached for the
 * previous user or workspace may be shown, so the whole cache goes before `me` is set.
 */
async function startSession(qc: QueryClient, me: Me) {
  await qc.cancelQueries();
  qc.clear();
  qc.setQueryData(meKey, me);
}

/**
 * A new account's first session: its profile takes the language it was created in and
 * the browser's time zone (the server's default is UTC). Best effort.
 */
async function adoptBrowserDefaults(me: Me): Promise<Me> {
  const patch: ProfileInput = {};
  if (me.user.language !== currentLanguage()) patch.language = currentLanguage();
  const tz = browserTimeZone();
  if (me.user.timezone === 'UTC' && tz !== 'UTC') patch.timezone = tz;
  if (!Object.keys(patch).length) return me;
  try {
    return await api.patch<Me>('/api/v1/auth/profile', patch);
  } catch {
    return me;
  }
}

export function useLogin() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; password: string }) => api.post<unknown>('/api/v1/auth/login', body),
    onSuccess: async () => {
      qc.clear();
      const me = await qc.fetchQuery({ queryKey: meKey, queryFn: () => api.get<Me>('/api/v1/auth/me') });
      // The interface follows the profile's language from the moment one signs in.
      applyLanguage(me.user.language);
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

/**
 * Registers; without e-mail confirmation the new account is signed in at once
 * (`confirmation_required` false), else it waits for the link.
 */
export function useSignup() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (body: SignupInput): Promise<SignupResult> => {
      const result = await api.post<SignupResult>('/api/v1/auth/signup', { ...body, language: currentLanguage() });
      if (result.confirmation_required) return result;
      await api.post<unknown>('/api/v1/auth/login', { email: body.email, password: body.password });
      const me = await adoptBrowserDefaults(await api.get<Me>('/api/v1/auth/me'));
      await startSession(qc, me);
      return result;
    },
  });
}

/** Confirms the e-mail of a new account; the answer signs it in. */
export function useConfirmEmail() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async (token: string) => {
      const me = await adoptBrowserDefaults(await api.post<Me>('/api/v1/auth/confirm', { token }));
      await startSession(qc, me);
      applyLanguage(me.user.language);
      return me;
    },
  });
}

export function useForgotPassword() {
  return useMutation({
    mutationFn: (email: string) => api.post<PasswordForgotResult>('/api/v1/auth/password/forgot', { email }),
  });
}

/** Sets a new password from a reset link; every session of the user ends, this browser's too. */
export function useResetPassword() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { token: string; password: string }) => api.post<void>('/api/v1/auth/password/reset', body),
    onSuccess: () => {
      qc.clear();
      qc.setQueryData(meKey, null);
    },
  });
}

export function useInvitationPreview(token: string) {
  return useQuery({
    queryKey: ['auth', 'invitation', token],
    queryFn: () => api.get<InvitationPreview>(`/api/v1/auth/invitations/${encodeURIComponent(token)}`),
    enabled: !!token,
    staleTime: Infinity,
  });
}

/** Joins the invited workspace (creating the account when there is none) and signs in there. */
export function useAcceptInvitation(token: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ password, name, newAccount }: { password: string; name?: string; newAccount: boolean }) => {
      // A new account is created in the interface's language.
      const body = newAccount ? { password, name, language: currentLanguage() } : { password };
      let me = await api.post<Me>(`/api/v1/auth/invitations/${encodeURIComponent(token)}/accept`, body);
      if (newAccount) me = await adoptBrowserDefaults(me);
      await startSession(qc, me);
      if (!newAccount) applyLanguage(me.user.language);
      return me;
    },
  });
}

export function useUpdateProfile() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: ProfileInput) => api.patch<Me>('/api/v1/auth/profile', body),
    onSuccess: (me) => {
      qc.setQueryData(meKey, me);
      applyLanguage(me.user.language);
    },
  });
}

/** The header's language switch: the UI changes at once, the profile follows (best effort). */
export function useSaveLanguage() {
  const qc = useQueryClient();
  return (language: Language) => {
    const me = qc.getQueryData<Me | null>(meKey);
    if (!me || me.user.language === language) return;
    api.patch<Me>('/api/v1/auth/profile', { language }).then(
      (updated) => qc.setQueryData(meKey, updated),
      () => undefined,
    );
  };
}

export function useChangePassword() {
  return useMutation({
    mutationFn: (body: { current_password: string; new_password: string }) => api.post<void>('/api/v1/auth/password/change', body),
  });
}

/** Moves this session to another workspace of the user; everything cached belongs to the old one. */
export function useSwitchWorkspace() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (workspaceId: string) => api.post<Me>('/api/v1/auth/switch', { workspace_id: workspaceId }),
    onSuccess: (me) => startSession(qc, me),
  });
}

/** Creates a workspace owned by the user; the session moves to it. */
export function useCreateWorkspace() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.post<Me>('/api/v1/workspaces', { name }),
    onSuccess: (me) => startSession(qc, me),
  });
}

/** What the signed-in role may do; the server enforces the same rules. */
export function usePermissions() {
  const { data } = useMe();
  const role = data?.role ?? 'viewer';
  return { role, canWrite: role === 'owner' || role === 'editor', isOwner: role === 'owner' };
}
