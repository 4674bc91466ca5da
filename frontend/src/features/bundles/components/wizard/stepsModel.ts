/**
 * A bundle's steps in the wizard (issue 16): the list (add, move, delete, rename, keys kept
 * unique), what an earlier step offers a later one (`steps.<key>.Id`, its columns, found/created),
 * the step's checks and its body for the api (`bpmlink/bundle_steps.py` is the source of truth).
 */
import type { ActivityOptions, Bundle, FilterGroup, MappingRule, StepAction } from '@/api/types';
import type { DedupPolicy, StoredDedup } from '../../api/dedup';
import { dedupBody, dedupFromStored, emptyDedup, validateDedup } from './dedupModel';
import { captionLabel } from '@/lib/captions';

export const STEP_KEY = /^[a-z][a-z0-9_]*$/;
export const MAX_STEPS = 20;

/** Creatio's own defaults for a new task (bundle_steps.py). */
export const ACTIVITY_DEFAULTS: ActivityOptions = {
  type_id: 'fbe0acdc-cfc0-df11-b00f-001d60e938c6',
  category_id: 'f2c0ce0e-cfc1-df11-b00f-001d60e938c6',
  status_id: '384d4b84-58e6-df11-971b-001d60e938c6',
  priority_id: 'ab96fa02-7fe6-df11-971b-001d60e938c6',
  start_in_minutes: 0,
  due_in_minutes: 120,
  participants: [],
};

export interface DraftStep {
  key: string;
  name: string;
  action: StepAction;
  connection_id: string;
  entity: string;
  mapping: MappingRule[];
  dedup: DedupPolicy;
  condition: FilterGroup | null;
  for_each: string | null;
  not_found: 'stop' | 'continue';
  activity?: ActivityOptions;
  process?: { schema_name: string; result_parameter: string | null };
  file?: { attach_to: string; max_bytes: number };
}

/** The actions that search with the step's duplicate policy, and those that leave a record. */
export const SEARCHING: ReadonlySet<StepAction> = new Set(['find_record', 'create_record', 'update_record']);
const WITH_RECORD: ReadonlySet<StepAction> = new Set(['find_record', 'create_record', 'update_record', 'create_activity', 'attach_file']);

export const hasRecord = (s: DraftStep) => WITH_RECORD.has(s.action);

/** `OpportunityProduct` → `opportunity_product`. */
export function keyFromEntity(entity: string): string {
  const k = entity
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .replace(/_+$/, '');
  return k || 'step';
}

/** `base`, else `base_2`, `base_3`… — the first not taken. */
export function uniqueKey(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}_${n}`)) return `${base}_${n}`;
}

/** The key a step gets before it has an entity; replaced by the entity's once one is chosen. */
const AUTO_KEY = /^step(_\d+)?$/;

export function newStep(action: StepAction, taken: string[], connectionId = ''): DraftStep {
  const step: DraftStep = {
    key: uniqueKey('step', taken),
    name: '',
    action,
    connection_id: connectionId,
    entity: action === 'create_activity' ? 'Activity' : '',
    mapping: [],
    dedup: emptyDedup(),
    condition: null,
    for_each: null,
    not_found: 'stop',
  };
  return withActionParts(step);
}

/** The parts an action needs (a task's lookups, a process's code, a file's record). */
export function withActionParts(step: DraftStep): DraftStep {
  const s = { ...step };
  if (s.action === 'create_activity') {
    s.activity = s.activity ?? { ...ACTIVITY_DEFAULTS };
    s.entity = s.entity || 'Activity';
  } else delete s.activity;
  if (s.action === 'run_process') s.process = s.process ?? { schema_name: '', result_parameter: null };
  else delete s.process;
  if (s.action === 'attach_file') s.file = s.file ?? { attach_to: '', max_bytes: 10 * 1024 * 1024 };
  else delete s.file;
  if (s.action === 'find_record' && s.dedup.mode === 'always_create') s.dedup = { ...s.dedup, mode: 'skip_if_found' };
  return s;
}

export function addStep(steps: DraftStep[], action: StepAction, connectionId = ''): DraftStep[] {
  return [...steps, newStep(action, steps.map((s) => s.key), connectionId || steps[steps.length - 1]?.connection_id || '')];
}

/** Moves step `i` up (-1) or down (+1); `validateSteps` refuses a step moved above one it reads. */
export function moveStep(steps: DraftStep[], i: number, delta: -1 | 1): DraftStep[] {
  const j = i + delta;
  if (j < 0 || j >= steps.length) return steps;
  const out = [...steps];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

export function removeStep(steps: DraftStep[], i: number): DraftStep[] {
  return steps.filter((_, j) => j !== i);
}

export function renameStep(steps: DraftStep[], i: number, name: string): DraftStep[] {
  return steps.map((s, j) => (j === i ? { ...s, name } : s));
}

/** Sets a step's entity; a step still on its first key takes the entity's (`steps.contact.Id` reads better). */
export function setEntity(steps: DraftStep[], i: number, entity: string): DraftStep[] {
  return steps.map((s, j) => {
    if (j !== i) return s;
    const same = s.entity === entity;
    const others = steps.filter((_, k) => k !== i).map((o) => o.key);
    const rekey = AUTO_KEY.test(s.key) && entity && !readBy(steps, s.key);
    return {
      ...s,
      entity,
      key: rekey ? uniqueKey(keyFromEntity(entity), others) : s.key,
      mapping: same ? s.mapping : [],
      dedup: same ? s.dedup : { ...s.dedup, match: [], compare: {}, update_rules: {} },
    };
  });
}

// ---- what a step reads of earlier steps --------------------------------------------

const PATH_REF = /^steps\.([A-Za-z_]\w*)/;
const TEMPLATE_REF = /\bsteps\.([A-Za-z_]\w*)/g;

/** The step keys a step reads: mapping sources, templates, lookups, condition, for_each, participants, file. */
export function stepRefs(step: DraftStep): string[] {
  const refs: string[] = [];
  const path = (p: string | null | undefined) => {
    const m = p ? PATH_REF.exec(p) : null;
    if (m) refs.push(m[1]!);
  };
  const text = (t: string | null | undefined) => {
    for (const m of (t ?? '').matchAll(TEMPLATE_REF)) refs.push(m[1]!);
  };
  for (const r of step.mapping) {
    path(r.source);
    text(r.template);
    text(r.lookup?.value);
  }
  const walk = (g: FilterGroup | null) => {
    for (const c of g?.conditions ?? []) {
      if ('conditions' in c) walk(c);
      else path(c.field);
    }
  };
  walk(step.condition);
  path(step.for_each);
  for (const p of step.activity?.participants ?? []) text(p);
  if (step.file?.attach_to) refs.push(step.file.attach_to);
  return refs;
}

function readBy(steps: DraftStep[], key: string): boolean {
  return steps.some((s) => s.key !== key && stepRefs(s).includes(key));
}

export interface StepField {
  path: string;
  label: string;
}

/**
 * What step `index` may read of the steps before it — never of itself or a later one: each
 * record's Id and the columns of its entity (`columns`, by step key, from the instance), found/created;
 * a process's result.
 */
export function earlierStepFields(
  steps: DraftStep[],
  index: number,
  columns: Record<string, Array<{ name: string; caption?: string | null }>>,
  t: (key: string, opts?: Record<string, unknown>) => string,
): StepField[] {
  const out: StepField[] = [];
  for (const s of steps.slice(0, Math.max(0, index))) {
    const name = stepTitle(s, t);
    if (s.action === 'run_process') {
      out.push({ path: `steps.${s.key}.result`, label: `${name} → ${t('steps.field.result')}` });
      continue;
    }
    out.push({ path: `steps.${s.key}.Id`, label: `${name} → Id` });
    for (const c of columns[s.key] ?? []) {
      if (c.name === 'Id') continue;
      out.push({ path: `steps.${s.key}.${c.name}`, label: `${name} → ${captionLabel(c.caption, c.name)}` });
    }
    if (SEARCHING.has(s.action)) out.push({ path: `steps.${s.key}.found`, label: `${name} → ${t('steps.field.found')}` });
    if (s.action !== 'find_record') out.push({ path: `steps.${s.key}.created`, label: `${name} → ${t('steps.field.created')}` });
  }
  return out;
}

/** The name shown for a step: its own, else its entity, else its action. */
export function stepTitle(s: DraftStep, t: (key: string, opts?: Record<string, unknown>) => string): string {
  return s.name.trim() || s.entity || t(`steps.action.${s.action}.title`);
}

// ---- checks -----------------------------------------------------------------------

/** The problems of the steps as i18n keys by path (`steps.1.entity`), as the save would refuse them. */
export function validateSteps(steps: DraftStep[]): Record<string, string> {
  const errors: Record<string, string> = {};
  if (steps.length === 0) errors.steps = 'steps.errors.empty';
  if (steps.length > MAX_STEPS) errors.steps = 'steps.errors.tooMany';
  const seen = new Map<string, number>();
  steps.forEach((s, i) => {
    const at = (part: string) => `steps.${i}.${part}`;
    if (!STEP_KEY.test(s.key)) errors[at('key')] = 'steps.errors.keyInvalid';
    else if (seen.has(s.key)) errors[at('key')] = 'steps.errors.keyTwice';
    seen.set(s.key, seen.get(s.key) ?? i);
    if (!s.connection_id) errors[at('connection_id')] = 'wizard.pickConnection';
    if (s.action !== 'run_process' && !s.entity) errors[at('entity')] = 'wizard.pickEntity';
    if (s.action === 'run_process' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s.process?.schema_name ?? '')) errors[at('process')] = 'steps.errors.processCode';
    if (s.action === 'attach_file' && !s.file?.attach_to) errors[at('file')] = 'steps.errors.attachTo';
    if (s.action === 'find_record' && s.dedup.match.every((g) => g.fields.length === 0)) errors[at('dedup')] = 'steps.errors.findBy';
    for (const ref of stepRefs(s)) {
      const j = seen.get(ref);
      const known = steps.findIndex((o) => o.key === ref);
      if (known < 0) errors[at('refs')] = 'steps.errors.refUnknown';
      else if (j === undefined || j >= i) errors[at('refs')] = 'steps.errors.refForward';
    }
  });
  return errors;
}

/** The checks of one step's duplicate policy, under that step's path. */
export function validateStepDedup(steps: DraftStep[]): Record<string, string> {
  const errors: Record<string, string> = {};
  steps.forEach((s, i) => {
    if (!SEARCHING.has(s.action)) return;
    for (const [k, v] of Object.entries(validateDedup(s.dedup))) errors[`steps.${i}.${k}`] = v;
  });
  return errors;
}

// ---- to and from the api -----------------------------------------------------------

export interface StepBody {
  key: string;
  name: string;
  action: StepAction;
  connection_id: string;
  entity: string | null;
  mapping: MappingRule[];
  dedup: DedupPolicy;
  condition: FilterGroup | null;
  for_each: string | null;
  not_found: 'stop' | 'continue';
  activity?: ActivityOptions;
  process?: { schema_name: string; result_parameter: string | null };
  file?: { attach_to: string; max_bytes: number };
}

/** One step as the api takes it; `convert` maps the mapping's conversions to the api's names. */
export function stepBody(s: DraftStep, convert: (rules: MappingRule[]) => MappingRule[]): StepBody {
  const mapping = convert(s.mapping);
  return {
    key: s.key,
    name: s.name.trim(),
    action: s.action,
    connection_id: s.connection_id,
    entity: s.action === 'run_process' ? null : s.entity || null,
    mapping,
    dedup: SEARCHING.has(s.action) ? dedupBody(s.dedup, s.mapping) : emptyDedup(),
    condition: s.condition?.conditions.length ? s.condition : null,
    for_each: s.for_each || null,
    not_found: s.not_found,
    ...(s.activity ? { activity: s.activity } : {}),
    ...(s.process ? { process: { schema_name: s.process.schema_name, result_parameter: s.process.result_parameter || null } } : {}),
    ...(s.file ? { file: s.file } : {}),
  };
}

/** The api's stored step (or a round-1 bundle's target + mapping + dedup, the step `main`) for the draft. */
export function draftStepsFromBundle(b: Bundle, convert: (rules: MappingRule[]) => MappingRule[]): DraftStep[] {
  const stored = b.steps;
  if (stored?.length) {
    return stored.map((s) => ({
      key: s.key,
      name: s.name ?? '',
      action: s.action,
      connection_id: s.connection_id,
      entity: s.entity ?? '',
      // The stored rules are the api's (free objects in the schema); conversions become editor names.
      mapping: convert((s.mapping ?? []) as unknown as MappingRule[]),
      dedup: dedupFromStored(s.dedup as StoredDedup | undefined),
      condition: (s.condition as FilterGroup | null | undefined) ?? null,
      for_each: s.for_each ?? null,
      not_found: s.not_found ?? 'stop',
      ...(s.activity ? { activity: { ...s.activity, participants: s.activity.participants ?? [] } } : {}),
      ...(s.process ? { process: { schema_name: s.process.schema_name, result_parameter: s.process.result_parameter ?? null } } : {}),
      ...(s.file ? { file: { ...s.file } } : {}),
    }));
  }
  if (!b.target) return [];
  return [
    {
      key: 'main',
      name: '',
      action: b.target.action as StepAction,
      connection_id: b.target.connection_id,
      entity: b.target.entity ?? '',
      mapping: convert(b.mapping ?? []),
      dedup: dedupFromStored(b.dedup as StoredDedup | undefined),
      condition: null,
      for_each: null,
      not_found: 'stop',
    },
  ];
}
