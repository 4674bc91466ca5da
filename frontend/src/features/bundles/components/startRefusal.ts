import type { TFunction } from 'i18next';
import { errorMessage } from '@/components/ErrorState';
import { ApiError } from '@/lib/api-client';
import { fieldErrorText, sentence } from '@/lib/messages';

/**
 * Why the api refused to start a bundle, in the interface language: each coded problem (an
 * incomplete bundle's `step_fields_unmapped` names the step and its fields), else the message.
 */
export function startRefusal(t: TFunction, e: unknown): string {
  const coded = e instanceof ApiError ? e.fieldErrors.filter((fe) => fe.code) : [];
  return coded.length ? coded.map((fe) => sentence(fieldErrorText(t, fe))).join('\n') : errorMessage(e);
}
