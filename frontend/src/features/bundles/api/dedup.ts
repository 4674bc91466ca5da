/**
 * The duplicate policy of issue #17 as the wizard sends it, and its preview.
 *
 * The policy is typed here rather than by the generated `DedupPolicy`, whose every field is required
 * (pydantic's defaults): the wizard never sends the round-1 `match_fields`, which the api still reads.
 */
import { useMutation } from '@tanstack/react-query';
import type { components } from '@/api/schema';
import type { BundleInput, DedupMode, UpdateRule } from '@/api/types';
import { api } from '@/lib/api-client';
import type { StepBody } from '../components/wizard/stepsModel';

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

/**
 * The bundle body the wizard sends: its steps (issue 16), each with the round-2 policy; round 1's
 * `target`, `mapping` and `dedup` are no longer sent (the api still reads them as the step `main`).
 */
export type BundleBody = Pick<BundleInput, 'webhook_secret' | 'name' | 'source' | 'schedule'> & { steps: StepBody[] };

export interface DedupPreviewInput {
  /** A source item; without it the bundle's sample. */
  item?: Record<string, unknown>;
  /** The key of the step whose policy is checked (a bundle of steps); without it the first searching one. */
  step?: string;
}

/** `group`: the index of the group that found a record (null: none did); `phone_search` `exact_fallback`:
 * the instance cannot search phones in any format, only equal text is found. */
export type DedupPreview = components['schemas']['DedupPreviewOut'];

/** Which record the saved policy would match for an item right now (read-only against the instance). */
export function useDedupPreview(bundleId: string | undefined) {
  return useMutation({
    mutationFn: async (body: DedupPreviewInput = {}): Promise<DedupPreview> =>
      // `step` is not in the generated schema yet (the api helper adds it).
      api.post('/api/v1/bundles/{bundle_id}/dedup-preview', { params: { path: { bundle_id: bundleId! } }, body: body as { item?: Record<string, unknown> } }),
  });
}
