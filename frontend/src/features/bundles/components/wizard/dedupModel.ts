/**
 * The duplicates step's model: the policy's search groups (tried in order, the first that finds
 * wins; AND inside a group), how each field is compared, and what is done with several matches.
 */
import type { DedupMode, MappingRule, UpdateRule } from '@/api/types';
import type { Compare, DedupPolicy, MatchGroup, OnSeveral, StoredDedup } from '../../api/dedup';

export const DEDUP_MODES = ['always_create', 'skip_if_found', 'update_if_found', 'update_only'] as const satisfies readonly DedupMode[];
export const UPDATE_RULES = ['overwrite', 'fill_if_empty', 'keep'] as const satisfies readonly UpdateRule[];
export const ON_SEVERAL = ['newest', 'oldest', 'skip', 'update_all'] as const satisfies readonly OnSeveral[];

export function emptyDedup(): DedupPolicy {
  return { mode: 'always_create', match: [], compare: {}, on_several: 'newest', update_rules: {} };
}

/** A stored policy as the editor works with it; a round-1 `match_fields` is one group. */
export function dedupFromStored(stored: StoredDedup | null | undefined): DedupPolicy {
  const base = emptyDedup();
  if (!stored) return base;
  const match = stored.match ?? (stored.match_fields?.length ? [{ fields: [...stored.match_fields] }] : []);
  return {
    mode: stored.mode ?? base.mode,
    match: match.map((g) => ({ fields: [...g.fields] })),
    compare: { ...(stored.compare ?? {}) },
    on_several: stored.on_several ?? base.on_several,
    update_rules: { ...(stored.update_rules ?? {}) },
  };
}

/** Match fields may only be chosen among mapped target fields. */
export function matchFieldOptions(mapping: MappingRule[]): string[] {
  return mapping.map((r) => r.target);
}

export type FieldKind = 'phone' | 'email' | 'text';

/**
 * What a field holds, for the comparison it is offered: by its name (`Email`, `MobilePhone`,
 * `UsrPhone2`), or by a comparison already stored for it.
 */
export function fieldKind(field: string, stored?: Compare): FieldKind {
  if (stored?.as === 'phone' || stored?.as === 'email') return stored.as;
  if (/e-?mail/i.test(field)) return 'email';
  if (/phone/i.test(field)) return 'phone';
  return 'text';
}

/** The comparison a field gets when none is chosen (as the api defaults it). */
export function defaultCompare(kind: FieldKind): Compare {
  if (kind === 'email') return { as: 'email', gmail: false };
  if (kind === 'phone') return { as: 'phone' };
  return { as: 'exact' };
}

/** The comparisons the editor offers for a kind, normalised (an e-mail is never compared as written). */
function sanitizeCompare(kind: FieldKind, c: Compare): Compare {
  if (kind === 'email') return { as: 'email', gmail: !!c.gmail };
  if (kind === 'phone') return c.as === 'exact' ? { as: 'exact' } : { as: 'phone' };
  return c.as === 'text' ? { as: 'text', ignore_case: true } : { as: 'exact' };
}

/** The fields used by any group, in the order they first appear. */
export function groupFields(match: MatchGroup[]): string[] {
  return [...new Set(match.flatMap((g) => g.fields))];
}

/**
 * The policy kept consistent with the mapping: groups keep only mapped fields (an emptied group
 * stays, so the editor can say so), every field searched by has its comparison, update rules cover
 * the mapped fields when records are updated.
 */
export function normalizeDedup(dedup: DedupPolicy, mapping: MappingRule[]): DedupPolicy {
  const mapped = new Set(matchFieldOptions(mapping));
  const updates = dedup.mode === 'update_if_found' || dedup.mode === 'update_only';
  const match = dedup.mode === 'always_create' ? [] : dedup.match.map((g) => ({ fields: g.fields.filter((f) => mapped.has(f)) }));
  const compare: Record<string, Compare> = {};
  for (const f of groupFields(match)) {
    const kind = fieldKind(f, dedup.compare[f]);
    compare[f] = sanitizeCompare(kind, dedup.compare[f] ?? defaultCompare(kind));
  }
  return {
    mode: dedup.mode,
    match,
    compare,
    on_several: dedup.on_several,
    update_rules: updates ? Object.fromEntries([...mapped].map((f) => [f, dedup.update_rules[f] ?? 'overwrite'] as const)) : {},
  };
}

/** The policy as the api takes it: normalised, without empty groups. */
export function dedupBody(dedup: DedupPolicy, mapping: MappingRule[]): DedupPolicy {
  const d = normalizeDedup(dedup, mapping);
  return { ...d, match: d.match.filter((g) => g.fields.length > 0) };
}

export interface GroupProblem {
  key: 'dedup.groupEmpty' | 'dedup.groupRepeats';
  /** For a repeat: the 1-based number of the earlier group it repeats. */
  of?: number;
}

/** Per group index: an empty group, or one with the same fields as an earlier one (it would never find more). */
export function groupProblems(match: MatchGroup[]): Record<number, GroupProblem> {
  const out: Record<number, GroupProblem> = {};
  const seen = new Map<string, number>();
  match.forEach((g, i) => {
    if (g.fields.length === 0) {
      out[i] = { key: 'dedup.groupEmpty' };
      return;
    }
    const id = [...g.fields].sort().join('\u0000');
    const earlier = seen.get(id);
    if (earlier !== undefined) out[i] = { key: 'dedup.groupRepeats', of: earlier + 1 };
    else seen.set(id, i);
  });
  return out;
}

/** The step's checks, as i18n keys by path: a search needs a group; groups must be filled and distinct. */
export function validateDedup(dedup: DedupPolicy): Record<string, string> {
  if (dedup.mode === 'always_create') return {};
  const errors: Record<string, string> = {};
  if (dedup.match.length === 0) errors['dedup.match'] = 'wizard.matchFieldsRequired';
  for (const [i, p] of Object.entries(groupProblems(dedup.match))) errors[`dedup.match.${i}`] = p.key;
  return errors;
}

/** The groups with group `i` moved by `delta` (−1 up, +1 down); unchanged at the ends. */
export function moveGroup(match: MatchGroup[], i: number, delta: -1 | 1): MatchGroup[] {
  const j = i + delta;
  if (i < 0 || j < 0 || i >= match.length || j >= match.length) return match;
  const next = [...match];
  [next[i], next[j]] = [next[j]!, next[i]!];
  return next;
}
