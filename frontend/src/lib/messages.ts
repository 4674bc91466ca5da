/**
 * Messages a person reads (DESIGN.md "Messages in the user's language"): a stable `code` with
 * `params`, rendered from the server's catalogs (the i18next namespace `server`: the same files the
 * api renders from); the English `text` when the catalogs do not know the code. bpm'online's own
 * words (`remote`) are shown apart, labelled (history's `RemoteText`).
 */
import type { TFunction } from 'i18next';
import type { CodedMessage } from '@/api/types';

const isMessage = (v: unknown): v is CodedMessage => !!v && typeof v === 'object' && typeof (v as CodedMessage).code === 'string';

/** A param as words: a message in it rendered first, a list joined. */
function paramText(t: TFunction, v: unknown): unknown {
  if (isMessage(v)) return render(t, v);
  if (Array.isArray(v)) return v.map((x) => String(paramText(t, x))).join(', ');
  return v;
}

function render(t: TFunction, m: CodedMessage): string {
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m.params ?? {})) params[k] = paramText(t, v);
  return t(m.code, { ns: 'server', ...params, defaultValue: m.text || m.code, interpolation: { escapeValue: false } });
}

/** The message in the interface language; a param that is itself a message is rendered first. */
export function messageText(t: TFunction, m: CodedMessage | string | null | undefined): string {
  if (!m) return '';
  return typeof m === 'string' ? m : render(t, m);
}

/** Words shown on their own, as a sentence: the catalogs' words start in lower case, as they are also clauses of other messages. */
export const sentence = (words: string | null | undefined): string => (words ? words.charAt(0).toUpperCase() + words.slice(1) : '');

/** A field problem of the api in the interface language: its code when it has one, else its message. */
export function fieldErrorText(t: TFunction, e: { message: string; code?: string | null; params?: Record<string, unknown> }): string {
  return e.code ? messageText(t, { code: e.code, params: e.params, text: e.message }) : e.message;
}
