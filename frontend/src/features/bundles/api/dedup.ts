/**
 * The round-2 duplicate policy (issue #17) and its preview, typed by hand.
 *
 * TODO(after the `dedup` branch is merged): run `npm run gen:api`, then replace these types by
 * `Schemas['DedupPolicy']`, `Schemas['DedupPreviewIn']`/`['DedupPreviewOut']` (or what the api names
 * them) and `rawRequest` by `api.post('/api/v1/bundles/{bundle_id}/dedup-preview', …)`.
 */
import { useMutation } from '@tanstack/react-query';
import type { BundleInput, DedupMode, UpdateRule } from '@/api/types';
import { rawRequest } from '@/lib/api-client';

/** How a field's values are compared: as written, as phone numbers, as e-mails, as text. */
export type CompareAs = 'exact' | 'phone' | 'email' | 'text';

export interface Compare {
  as: CompareAs;
  /** `email`: gmail.com = googlemail.com, and dots in the name do not count. */
  gmail?: boolean;
  /** `text`: case and ё/е do not count. */
  ignore_case?: boolean;
}

/** What is done when a search finds several records. */
export type OnSeveral = 'newest' | 'oldest' | 'skip' | 'update_all';

/** One search: every field of the group must match (AND). */
export interface MatchGroup {
  fields: string[];
}

/** The bundle's `dedup` as the wizard sends it: groups tried in order, the first that finds wins. */
export interface DedupPolicy {
  mode: DedupMode;
  match: MatchGroup[];
  compare: Record<string, Compare>;
  on_several: OnSeveral;
  update_rules: Record<string, UpdateRule>;
}

/** A `dedup` as the api may answer it: a round-1 bundle has only `match_fields` (one group). */
export type StoredDedup = Partial<DedupPolicy> & { match_fields?: string[] | null };

/** The bundle body with the round-2 policy. */
export type BundleBody = Omit<BundleInput, 'dedup'> & { dedup: DedupPolicy };

export interface DedupPreviewInput {
  /** A source item; without it the bundle's sample. */
  item?: Record<string, unknown>;
}

export interface DedupPreview {
  /** The index of the group that found a record; null when none did (or no search was made). */
  group: number | null;
  fields: string[];
  /** The values searched for, by field, after the mapping. */
  values: Record<string, unknown>;
  candidates: Array<{ id: string; name?: string | null }>;
  /** `exact_fallback`: the instance cannot search phones in any format, only equal text is found. */
  phone_search: 'search_column' | 'exact_fallback' | null;
  action: 'create' | 'update' | 'skip';
}

/** Which record the saved policy would match for an item right now (read-only against the instance). */
export function useDedupPreview(bundleId: string | undefined) {
  return useMutation({
    mutationFn: async (body: DedupPreviewInput = {}) =>
      (await rawRequest('post', `/api/v1/bundles/${encodeURIComponent(bundleId!)}/dedup-preview`, body)) as DedupPreview,
  });
}
