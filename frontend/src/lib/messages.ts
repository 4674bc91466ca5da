/**
 * Messages a person reads (DESIGN.md "Messages in the user's language"): a stable `code` with
 * `params`, rendered from the dictionaries' `messages.<code>`; the English `text` when the
 * dictionaries do not know the code. bpm'online's own words (`remote`) are shown apart, labelled.
 */
import type { TFunction } from 'i18next';
import type { CodedMessage } from '@/api/types';

const isMessage = (v: unknown): v is CodedMessage => !!v && typeof v === 'object' && typeof (v as CodedMessage).code === 'string';

/** The message in the interface language; a param that is itself a message is rendered first. */
/** A field problem of the api in the interface language: its code when it has one, else its message. */
export function fieldErrorText(t: TFunction, e: { message: string; code?: string | null; params?: Record<string, unknown> }): string {
  return e.code ? messageText(t, { code: e.code, params: e.params, text: e.message }) : e.message;
}

export function messageText(t: TFunction, m: CodedMessage | string | null | undefined): string {
  if (!m) return '';
  if (typeof m === 'string') return m;
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m.params ?? {})) params[k] = isMessage(v) ? messageText(t, v) : v;
  return t(`messages.${m.code}`, { ...params, defaultValue: m.text || m.code, interpolation: { escapeValue: false } });
}
