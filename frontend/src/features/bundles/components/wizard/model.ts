/**
 * The bundle wizard's model: its steps, the draft, each step's schema, and the pure
 * helpers the steps share (sample flattening, local preview); the duplicate policy is `dedupModel`.
 */
import { z } from 'zod';
import type { Bundle, ConversionStep, EntityField, MappingRule, SourceField } from '@/api/types';
import { localized } from '@/i18n';
import type { BundleBody } from '../../api/dedup';
import { type DraftStep, draftStepsFromBundle, newStep, stepBody, validateStepDedup, validateSteps } from './stepsModel';

export const STEPS = ['source', 'target', 'sample', 'mapping', 'dedup', 'review'] as const;
export type StepId = (typeof STEPS)[number];

export function isStep(s: string | undefined): s is StepId {
  return (STEPS as readonly string[]).includes(s ?? '');
}

/** The conversions offered in the editor (the api knows more, with parameters). */
export const CONVERSIONS = ['trim', 'lower', 'upper', 'phone_e164_ru', 'phone_e164', 'number', 'boolean', 'date'] as const;

/** Editor names for conversions with parameters, and what the api stores for them. */
const PRESETS: Record<string, { name: string; [param: string]: unknown }> = {
  phone_e164_ru: { name: 'phone_e164', region: 'RU' },
};

type StepObject = Exclude<ConversionStep, string>;

/** The arguments a step object really sets (the api answers unset ones as null). */
function stepArgs(c: StepObject): Array<[string, unknown]> {
  return Object.entries(c).filter(([k, v]) => k !== 'name' && v !== null && v !== undefined);
}

function presetOf(c: StepObject, exact: boolean): string | undefined {
  const found = Object.entries(PRESETS).find(
    ([, p]) => Object.entries(p).every(([k, v]) => c[k] === v) && (!exact || stepArgs(c).every(([k]) => k in p)),
  );
  return found?.[0];
}

export function conversionToApi(step: ConversionStep): ConversionStep {
  return typeof step === 'string' ? (PRESETS[step] ?? step) : step;
}

/** A stored step for the draft: its editor name when that says it all, else the object, arguments kept. */
export function conversionFromApi(c: ConversionStep): ConversionStep {
  if (typeof c === 'string') return c;
  const preset = presetOf(c, true);
  if (preset) return preset;
  return stepArgs(c).length ? c : c.name;
}

/** The editor name a step is shown and chosen by (`phone_e164_ru`, `date`). */
export function conversionName(step: ConversionStep): string {
  return typeof step === 'string' ? step : (presetOf(step, false) ?? step.name);
}

/** The steps for the names chosen in the editor, in that order; a step kept keeps its arguments. */
export function setConversions(current: ConversionStep[] | undefined, names: string[]): ConversionStep[] {
  const pool = [...(current ?? [])];
  return names.map((name) => {
    const i = pool.findIndex((step) => conversionName(step) === name);
    return i < 0 ? name : pool.splice(i, 1)[0]!;
  });
}

/** A date step's own time zone; null when it takes the default (the saving user's profile zone). */
export function stepTimeZone(step: ConversionStep): string | null {
  return typeof step !== 'string' && typeof step.timezone === 'string' ? step.timezone : null;
}

/** The step with its time zone set, or removed (`null`) so that the default applies. */
export function withTimeZone(step: ConversionStep, timezone: string | null): ConversionStep {
  const next: StepObject = typeof step === 'string' ? { name: step } : { ...step };
  if (timezone) next.timezone = timezone;
  else delete next.timezone;
  return conversionFromApi(next);
}

export type MappingMode = 'source' | 'template' | 'constant' | 'lookup';

/**
 * The wizard's working copy: the bundle's steps (conversions by editor name, or with their
 * arguments, see `conversionFromApi`) and which of them the step pages edit (`current`).
 */
export type Draft = Omit<BundleBody, 'steps' | 'webhook_secret'> & { steps: DraftStep[]; current: number };

export function emptyDraft(): Draft {
  return {
    name: '',
    source: { app: '', connection_id: null, trigger: '', config: {} },
    steps: [newStep('create_record', [])],
    current: 0,
    schedule: { interval_minutes: 5 },
  };
}

/** The api stores conversions as `{name, ...}`; the editor works with names where they say it all. */
const mappingFromApi = (rules: MappingRule[]) => rules.map((r) => ({ ...r, convert: (r.convert ?? []).map(conversionFromApi) }));
const mappingToApi = (rules: MappingRule[]) => rules.map((r) => (r.convert?.length ? { ...r, convert: r.convert.map(conversionToApi) } : r));

export function draftFromBundle(b: Bundle): Draft {
  const steps = draftStepsFromBundle(b, mappingFromApi);
  return {
    name: b.name,
    source: { ...b.source, config: b.source.config ?? {} },
    steps: steps.length ? steps : [newStep('create_record', [])],
    current: 0,
    schedule: b.schedule ?? { interval_minutes: 5 },
  };
}

/** The step the step pages edit (the first when `current` is out of range). */
export function currentStep(draft: Draft): DraftStep {
  return draft.steps[draft.current] ?? draft.steps[0]!;
}

export function currentIndex(draft: Draft): number {
  return draft.steps[draft.current] ? draft.current : 0;
}

/** The draft with the current step changed by `fn`. */
export function updateCurrent(draft: Draft, fn: (s: DraftStep) => DraftStep): Draft {
  const i = currentIndex(draft);
  return { ...draft, steps: draft.steps.map((s, j) => (j === i ? fn(s) : s)) };
}

// ---- per-step schemas -------------------------------------------------------------

const required = (msg: string) => z.string({ error: msg }).trim().min(1, msg);

export function stepSchema(step: StepId, ctx: { isWebhook: boolean; needsSourceConnection: boolean }) {
  switch (step) {
    case 'source':
      return z.object({
        name: required('common.required'),
        source: z.object({
          app: required('common.required'),
          trigger: required('common.required'),
          connection_id: ctx.needsSourceConnection ? required('wizard.pickConnection') : z.string().nullable(),
        }),
      });
    case 'target':
      return z.object({});
    case 'sample':
      return ctx.isWebhook
        ? z.object({})
        : z.object({
            schedule: z.object({ interval_minutes: z.number({ error: 'wizard.intervalInvalid' }).int().min(1, 'wizard.intervalInvalid').max(1440, 'wizard.intervalInvalid') }),
          });
    case 'mapping':
      return z.object({});
    case 'dedup':
      return z.object({});
    case 'review':
      return z.object({});
  }
}

/** Validates one step; returns i18n keys of the messages by field path (`source.app`). */
export function validateStep(step: StepId, draft: Draft, ctx: { isWebhook: boolean; needsSourceConnection: boolean }): Record<string, string> {
  const res = stepSchema(step, ctx).safeParse(draft);
  const errors: Record<string, string> = {};
  if (res.success) {
    if (step === 'target') Object.assign(errors, validateSteps(draft.steps));
    if (step === 'mapping') draft.steps.forEach((s, i) => Object.assign(errors, validateMapping(s.mapping, `steps.${i}.`)));
    if (step === 'dedup') Object.assign(errors, validateStepDedup(draft.steps));
    return errors;
  }
  for (const issue of res.error.issues) {
    const path = issue.path.join('.');
    if (!errors[path]) errors[path] = issue.message;
  }
  return errors;
}

/** The part of the draft an error path is about: a rule by its target, else the nearest value on the path. */
function valueAt(draft: Draft, path: string): unknown {
  const rule = /^steps\.(\d+)\.mapping\.(.+)$/.exec(path);
  if (rule) {
    const mapping = draft.steps[Number(rule[1])]?.mapping ?? [];
    return mapping.find((r) => r.target === rule[2]) ?? mapping;
  }
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const v = getPath(draft, parts.slice(0, n).join('.'));
    if (v !== undefined) return v;
  }
  return draft;
}

/**
 * The messages still true after an edit of `step`: the wizard's own checks run again, so one goes
 * as soon as its problem is fixed (and stays while it is not); a server's message goes once the
 * part of the draft it was about changes (the next save checks that again).
 */
export function errorsAfterEdit(
  errors: Record<string, string>,
  before: Draft,
  after: Draft,
  step: StepId,
  ctx: { isWebhook: boolean; needsSourceConnection: boolean },
): Record<string, string> {
  // Every step's own checks, not only the one edited: a fix on one step may clear another's message.
  const checks = (d: Draft) => Object.assign({}, validateStep(step, d, ctx), ...STEPS.map((s) => validateStep(s, d, ctx))) as Record<string, string>;
  const was = checks(before);
  const now = checks(after);
  const same = (path: string) => JSON.stringify(valueAt(before, path)) === JSON.stringify(valueAt(after, path));
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(errors)) {
    if (was[path] === message) {
      if (now[path]) out[path] = now[path];
      continue;
    }
    // A duplicate policy is checked against its step's mapping: mapping the field it names fixes it too.
    const policy = /^(steps\.\d+\.)dedup\b/.exec(path);
    if (same(path) && (!policy || same(`${policy[1]}mapping`))) out[path] = message;
  }
  return out;
}

/** Rule-level checks: at least one rule, and every rule has something to take its value from. */
export function validateMapping(mapping: MappingRule[], prefix = ''): Record<string, string> {
  const errors: Record<string, string> = {};
  if (mapping.length === 0) errors[`${prefix}mapping`] = 'wizard.mappingEmpty';
  for (const rule of mapping) {
    const mode = ruleMode(rule);
    const key = `${prefix}mapping.${rule.target}`;
    if (mode === 'source' && !rule.source) errors[key] = 'wizard.pickSourceField';
    if (mode === 'template' && !rule.template?.trim()) errors[key] = 'wizard.templateEmpty';
    if (mode === 'lookup' && (!rule.lookup?.entity || !rule.lookup.by || !rule.lookup.value)) errors[key] = 'wizard.lookupIncomplete';
  }
  return errors;
}

/** Which step a server error path belongs to (`mapping.2.template` → mapping). */
export function stepForPath(path: string): StepId {
  const p = path.replace(/^body\./, '').replace(/^steps\.\d+\.(?=mapping|dedup)/, '');
  if (p.startsWith('mapping')) return 'mapping';
  if (p.startsWith('dedup')) return 'dedup';
  // The polling interval is set with the schedule; the other trigger fields on the source step.
  if (p.startsWith('schedule') || p.startsWith('source.config.interval_minutes')) return 'sample';
  if (p.startsWith('target') || p.startsWith('steps')) return 'target';
  if (p.startsWith('name') || p.startsWith('source') || p.startsWith('webhook_secret')) return 'source';
  return 'review';
}

/** Server paths use mapping indexes; the wizard shows errors by target field. */
export function errorKeyForPath(path: string, draft: Draft): string {
  let p = path.replace(/^body\./, '');
  // A round-1 path (`mapping.2`, `target.entity`) is about the step `main`, the first.
  let prefix = 'steps.0.';
  const s = /^steps\.(\d+)\.(.*)$/.exec(p);
  if (s) {
    prefix = `steps.${s[1]}.`;
    p = s[2]!;
  } else if (p.startsWith('target.')) p = p.slice('target.'.length);
  else if (!/^(mapping|dedup)\b/.test(p)) return p;
  const step = draft.steps[Number(prefix.split('.')[1])];
  const m = /^mapping\.(\d+)(\..*)?$/.exec(p);
  if (m) {
    const rule = step?.mapping[Number(m[1])];
    return rule ? `${prefix}mapping.${rule.target}` : `${prefix}mapping`;
  }
  const u = /^dedup\.update_rules\.(.+)$/.exec(p);
  if (u) return `${prefix}dedup.update_rules.${u[1]}`;
  // A round-1 path means the one group; a group's parts (`dedup.match.1.fields.0`) show on the group.
  if (p.startsWith('dedup.match_fields')) return `${prefix}dedup.match.0`;
  const g = /^dedup\.match\.(\d+)\b/.exec(p);
  if (g) return `${prefix}dedup.match.${g[1]}`;
  return `${prefix}${p}`;
}

// ---- mapping helpers ----------------------------------------------------------------

export function ruleMode(rule: MappingRule): MappingMode {
  if (rule.lookup) return 'lookup';
  if (rule.template != null) return 'template';
  if (rule.constant !== undefined && rule.constant !== null) return 'constant';
  return 'source';
}

export function setRuleMode(rule: MappingRule, mode: MappingMode): MappingRule {
  const base: MappingRule = { target: rule.target, ...(rule.convert?.length ? { convert: rule.convert } : {}) };
  switch (mode) {
    case 'source':
      return { ...base, source: rule.source ?? '' };
    case 'template':
      return { ...base, template: rule.template ?? (rule.source ? `{{ ${rule.source} }}` : '') };
    case 'constant':
      return { ...base, constant: rule.constant ?? '' };
    case 'lookup':
      return { target: rule.target, lookup: rule.lookup ?? { entity: '', by: 'Name', value: rule.source ? `{{ ${rule.source} }}` : '', create_if_missing: false } };
  }
}

/** Entity fields with the required ones first, then by name; read-only/system ones left out. */
export function orderFields(fields: EntityField[]): EntityField[] {
  const hidden = new Set(['Id', 'CreatedOn', 'CreatedById', 'ModifiedOn', 'ModifiedById', 'ProcessListeners']);
  return fields
    .filter((f) => !hidden.has(f.name) && !f.read_only)
    .sort((a, b) => Number(b.required) - Number(a.required) || a.name.localeCompare(b.name));
}

/** Upserts (or with `null` removes) the rule for one target field, keeping the order. */
export function putRule(mapping: MappingRule[], target: string, rule: MappingRule | null): MappingRule[] {
  const i = mapping.findIndex((r) => r.target === target);
  if (rule === null) return i < 0 ? mapping : mapping.filter((_, j) => j !== i);
  if (i < 0) return [...mapping, rule];
  return mapping.map((r, j) => (j === i ? rule : r));
}

export interface SampleField {
  path: string;
  value: unknown;
  /** The app's name for it (declared by the trigger), in the interface language. */
  label?: string;
  /** `value` is the catalog's example, not a value received. */
  example?: boolean;
  /** Received in the sample but not declared by the trigger (a form's own variable). */
  fromSample?: boolean;
}

/** `items[0].sku` and `items.0.sku` name the same field. */
const samePath = (p: string) => p.replace(/\[(\d+)\]/g, '.$1');

/**
 * The source fields the mapping offers: the trigger's labelled fields first (with the sample's
 * value when it has one, else the example), then the sample's other fields, marked as found only
 * there — so the step is usable before any request arrives, and nothing received is hidden.
 */
export function mergeSourceFields(declared: SourceField[], sample: SampleField[]): SampleField[] {
  const received = new Map(sample.map((s) => [samePath(s.path), s]));
  const out: SampleField[] = declared.map((f) => {
    const s = received.get(samePath(f.path));
    return s ? { path: f.path, label: localized(f.label), value: s.value } : { path: f.path, label: localized(f.label), value: f.example, example: true };
  });
  const known = new Set(declared.map((f) => samePath(f.path)));
  for (const s of sample) if (!known.has(samePath(s.path))) out.push(declared.length ? { ...s, fromSample: true } : s);
  return out;
}

/** Flattens a sample item into paths as the api writes them (`contact.email`, `items[0].sku`) with their values. */
export function flattenSample(data: unknown, prefix = '', depth = 0, out: SampleField[] = []): SampleField[] {
  if (data === null || typeof data !== 'object' || depth > 5) {
    if (prefix) out.push({ path: prefix, value: data });
    return out;
  }
  if (Array.isArray(data)) {
    if (data.length === 0 && prefix) out.push({ path: prefix, value: data });
    data.slice(0, 5).forEach((v, i) => flattenSample(v, `${prefix}[${i}]`, depth + 1, out));
    return out;
  }
  const entries = Object.entries(data);
  if (entries.length === 0 && prefix) out.push({ path: prefix, value: data });
  for (const [k, v] of entries) flattenSample(v, prefix ? `${prefix}.${k}` : k, depth + 1, out);
  return out;
}

export function getPath(data: unknown, path: string): unknown {
  let cur: unknown = data;
  for (const part of path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function renderTemplate(template: string, data: unknown): string {
  return template.replace(/\{\{\s*([\w.@[\]-]+)\s*\}\}/g, (_, path: string) => {
    const v = getPath(data, path);
    return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

function applyConversion(value: unknown, conv: string): unknown {
  if (value === null || value === undefined) return value;
  const s = String(value);
  switch (conv) {
    case 'trim':
      return s.trim();
    case 'lower':
      return s.toLowerCase();
    case 'upper':
      return s.toUpperCase();
    case 'phone_e164':
      return s.trim().startsWith('+') ? `+${s.replace(/\D+/g, '')}` : s;
    case 'phone_e164_ru': {
      let d = s.replace(/\D+/g, '');
      if (d.length === 11 && d.startsWith('8')) d = `7${d.slice(1)}`;
      if (d.length === 10) d = `7${d}`;
      return d ? `+${d}` : '';
    }
    case 'number': {
      const n = Number(s.replace(/[\s\u00a0]/g, '').replace(',', '.'));
      return Number.isFinite(n) ? n : null;
    }
    case 'boolean':
      return ['1', 'true', 'yes', 'on', 'да'].includes(s.trim().toLowerCase());
    default:
      return value;
  }
}

/**
 * An approximate preview computed in the browser, shown at once while typing; the
 * server's preview (the same engine that runs the bundle) replaces it when it answers.
 */
export function localPreview(mapping: MappingRule[], sample: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const rule of mapping) {
    let value: unknown;
    switch (ruleMode(rule)) {
      case 'source':
        value = rule.source ? getPath(sample, rule.source) : undefined;
        break;
      case 'template':
        value = renderTemplate(rule.template ?? '', sample);
        break;
      case 'constant':
        value = rule.constant;
        break;
      case 'lookup':
        value = `→ ${rule.lookup?.entity ?? '?'}.${rule.lookup?.by ?? '?'} = "${renderTemplate(rule.lookup?.value ?? '', sample)}"`;
        break;
    }
    for (const c of rule.convert ?? []) value = applyConversion(value, conversionName(c));
    out[rule.target] = value;
  }
  return out;
}

/**
 * The body sent to the API for the draft; a webhook secret typed in this visit goes with it (it is
 * write-only, and never kept in the stored draft).
 */
export function toBundleInput(draft: Draft, webhookSecret = ''): BundleBody {
  return {
    ...(webhookSecret ? { webhook_secret: webhookSecret } : {}),
    name: draft.name.trim(),
    source: { ...draft.source, connection_id: draft.source.connection_id || null },
    steps: draft.steps.map((s) => stepBody(s, mappingToApi)),
    schedule: draft.schedule ?? { interval_minutes: 5 },
  };
}

// ---- the draft across reloads ---------------------------------------------------------

const DRAFT_PREFIX = 'bpmlink.bundle-draft.';

/**
 * The draft kept for `key` ('new.<workspace id>' or a bundle id). For a saved bundle it is used only
 * while the bundle is still at the version it was drafted from, so an edit made
 * elsewhere is never hidden by an old draft.
 */
export function loadDraft(key: string, version?: number): Draft | null {
  try {
    const raw = localStorage.getItem(DRAFT_PREFIX + key);
    if (!raw) return null;
    const stored = JSON.parse(raw) as { draft?: Draft; version?: number | null };
    if (!stored.draft) return null;
    if (version !== undefined && stored.version !== version) return null;
    // A draft kept before the steps (round 1's target + mapping + dedup) is not resumed.
    if (!Array.isArray(stored.draft.steps) || stored.draft.steps.length === 0) return null;
    return stored.draft;
  } catch {
    return null;
  }
}

export function saveDraft(key: string, draft: Draft, version?: number): void {
  try {
    localStorage.setItem(DRAFT_PREFIX + key, JSON.stringify({ draft, version: version ?? null }));
  } catch {
    /* storage full or disabled: the draft just does not survive a reload */
  }
}

export function clearDraft(key: string): void {
  localStorage.removeItem(DRAFT_PREFIX + key);
}

/** The required fields of a step's entity no rule fills, when the step creates (an update needs none). */
export function unmappedRequired(
  step: { action: string; mapping: ReadonlyArray<{ target: string }>; dedup?: { mode?: string } },
  fields: ReadonlyArray<{ name: string; required: boolean }>,
): string[] {
  const creates = step.action === 'create_activity' || (step.action === 'create_record' && step.dedup?.mode !== 'update_only');
  if (!creates) return [];
  const mapped = new Set(step.mapping.map((r) => r.target));
  return fields.filter((f) => f.required && !mapped.has(f.name)).map((f) => f.name);
}
