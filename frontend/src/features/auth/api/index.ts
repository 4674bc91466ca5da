import { type QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Language, LoginInput, Me, MeOut, PasswordChangeInput, PasswordResetInput, ProfileInput, SignupInput, SignupResult } from '@/api/types';
import i18n, { LANGUAGES, currentLanguage } from '@/i18n';
import { api, isApiError } from '@/lib/api-client';
import { browserTimeZone } from '@/lib/format';

export const meKey = ['auth', 'me'] as const;

/** The schema types the answer's `role` as any string; the api sends a Role (see `Me`). */
const asMe = (me: MeOut): Me => me as Me;
const configKey = ['auth', 'config'] as const;

export function useMe() {
  return useQuery({
    queryKey: meKey,
    queryFn: async (): Promise<Me | null> => {
      try {
        return await api.get('/api/v1/auth/me').then(asMe);
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
    queryFn: () => api.get('/api/v1/auth/config'),
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
 * What a login brings along: the interface's language (the browser's, or one picked on the login page)
 * and the browser's IANA zone. The api stores them only in a profile that never had them set (the first
 * login); a profile's own choice wins, and is applied once signed in.
 */
function withBrowserLocale(body: LoginInput): LoginInput {
  return { ...body, language: currentLanguage(), timezone: browserTimeZone() };
}

/**
 * A new account's first session opened without a login (e-mail confirmation, accepted invitation): its
 * profile takes the language it was created in and the browser's time zone (the server's default is UTC).
 * Best effort.
 */
async function adoptBrowserDefaults(me: Me): Promise<Me> {
  const patch: ProfileInput = {};
  if (me.user.language !== currentLanguage()) patch.language = currentLanguage();
  const tz = browserTimeZone();
  if (me.user.timezone === 'UTC' && tz !== 'UTC') patch.timezone = tz;
  if (!Object.keys(patch).length) return me;
  try {
    return await api.patch('/api/v1/auth/profile', { body: patch }).then(asMe);
  } catch {
    return me;
  }
}

export function useLogin() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: LoginInput) => api.post('/api/v1/auth/login', { body: withBrowserLocale(body) }),
    onSuccess: async () => {
      qc.clear();
      const me = await qc.fetchQuery({ queryKey: meKey, queryFn: () => api.get('/api/v1/auth/me').then(asMe) });
      // The interface follows the profile's language from the moment one signs in.
      applyLanguage(me.user.language);
    },
  });
}

export function useLogout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.post('/api/v1/auth/logout'),
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
      const result = await api.post('/api/v1/auth/signup', { body: { ...body, language: currentLanguage() } });
      if (result.confirmation_required) return result;
      // The first login brings the browser's time zone (and language) into the new profile.
      const me = asMe(await api.post('/api/v1/auth/login', { body: withBrowserLocale({ email: body.email, password: body.password }) }));
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
      const me = await adoptBrowserDefaults(await api.post('/api/v1/auth/confirm', { body: { token } }).then(asMe));
      await startSession(qc, me);
      applyLanguage(me.user.language);
      return me;
    },
  });
}

export function useForgotPassword() {
  return useMutation({
    mutationFn: (email: string) => api.post('/api/v1/auth/password/forgot', { body: { email } }),
  });
}

/** Sets a new password from a reset link; every session of the user ends, this browser's too. */
export function useResetPassword() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: PasswordResetInput) => api.post('/api/v1/auth/password/reset', { body }),
    onSuccess: () => {
      qc.clear();
      qc.setQueryData(meKey, null);
    },
  });
}

export function useInvitationPreview(token: string) {
  return useQuery({
    queryKey: ['auth', 'invitation', token],
    queryFn: () => api.get('/api/v1/auth/invitations/{token}', { params: { path: { token } } }),
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
      let me = await api.post('/api/v1/auth/invitations/{token}/accept', { params: { path: { token } }, body }).then(asMe);
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
    mutationFn: (body: ProfileInput) => api.patch('/api/v1/auth/profile', { body }).then(asMe),
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
    api.patch('/api/v1/auth/profile', { body: { language } }).then(asMe).then(
      (updated) => qc.setQueryData(meKey, updated),
      () => undefined,
    );
  };
}

export function useChangePassword() {
  return useMutation({
    mutationFn: (body: PasswordChangeInput) => api.post('/api/v1/auth/password/change', { body }),
  });
}

/** Moves this session to another workspace of the user; everything cached belongs to the old one. */
export function useSwitchWorkspace() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (workspaceId: string) => api.post('/api/v1/auth/switch', { body: { workspace_id: workspaceId } }).then(asMe),
    onSuccess: (me) => startSession(qc, me),
  });
}

/** Creates a workspace owned by the user; the session moves to it. */
export function useCreateWorkspace() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.post('/api/v1/workspaces', { body: { name } }).then(asMe),
    onSuccess: (me) => startSession(qc, me),
  });
}

/** What the signed-in role may do; the server enforces the same rules. */
export function usePermissions() {
  const { data } = useMe();
  const role = data?.role ?? 'viewer';
  return { role, canWrite: role === 'owner' || role === 'editor', isOwner: role === 'owner' };
}
