/**
 * API shapes from DESIGN.md, hand-typed until the generated `schema.d.ts`
 * (npm run gen:api) covers them. Names follow the design's vocabulary.
 */

import type { components } from './schema';

/** Shapes generated from the api's OpenAPI document (`npm run gen:api`). */
type Schemas = components['schemas'];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Role = Schemas['Role'];
export type User = Schemas['UserOut'];
export type Workspace = Schemas['WorkspaceOut'];
export type Me = Omit<Schemas['MeOut'], 'role'> & { role: Role };
export type ApiKey = Schemas['ApiKeyOut'];
export type ApiKeyCreated = Schemas['ApiKeyCreated'];
export type WorkspaceUser = Schemas['MemberOut'];

export type FieldType = 'string' | 'text' | 'password' | 'url' | 'integer' | 'number' | 'boolean' | 'select' | 'json';

/** One field of an app's connection form, trigger config or action config. */
export interface AppField {
  name: string;
  label?: string | Record<string, string> | null;
  type?: FieldType | string;
  required?: boolean;
  secret?: boolean;
  default?: unknown;
  options?: Array<string | number | { value: string | number; label?: string | Record<string, string> }> | null;
  help?: string | Record<string, string> | null;
  /** Shown only when another field has one of these values, e.g. `{auth: ['oauth']}`. */
  visible_if?: Record<string, unknown[]> | null;
}

export interface AppTrigger {
  name: string;
  label?: string | Record<string, string> | null;
  kind?: 'webhook' | 'polling' | 'manual' | string;
  fields?: AppField[];
}

export interface AppAction {
  name: string;
  label?: string | Record<string, string> | null;
  fields?: AppField[];
}

export interface App {
  name: string;
  label?: string | Record<string, string> | null;
  description?: string | Record<string, string> | null;
  connection_fields?: AppField[];
  needs_connection?: boolean;
  triggers?: AppTrigger[];
  actions?: AppAction[];
}

export type Connection = Schemas['ConnectionOut'];
export type ConnectionInput = Schemas['ConnectionIn'];
export type ConnectionTestResult = Schemas['TestResult'];
export type EntitySummary = Schemas['EntitySummary'] & { label?: string | null };
export type EntityField = Schemas['FieldOut'] & { label?: string | null };
export interface EntityDetail {
  name: string;
  fields: EntityField[];
}

/*
 * Below: bundles, operations and stats, hand-typed from DESIGN.md until the api
 * publishes them; switch each to `Schemas[...]` when `npm run gen:api` has it.
 */

export type BundleStatus = 'stopped' | 'running' | 'waiting' | 'error';

export type DedupMode = 'always_create' | 'skip_if_found' | 'update_if_found' | 'update_only';
export type UpdateRule = 'overwrite' | 'fill_if_empty' | 'keep';

export interface Lookup {
  entity: string;
  by: string;
  value: string;
  create_if_missing?: boolean;
}

export interface MappingRule {
  target: string;
  source?: string | null;
  template?: string | null;
  constant?: unknown;
  convert?: string[];
  lookup?: Lookup | null;
}

export interface Dedup {
  mode: DedupMode;
  match_fields: string[];
  update_rules: Record<string, UpdateRule>;
}

export interface BundleInput {
  name: string;
  source: { app: string; connection_id: string | null; trigger: string; config: Record<string, unknown> };
  target: { connection_id: string; action: string; entity: string };
  mapping: MappingRule[];
  dedup: Dedup;
  schedule?: { interval_minutes: number } | null;
}

export interface BundleCounts {
  [status: string]: number;
}

export interface Bundle extends BundleInput {
  id: string;
  status: BundleStatus;
  status_reason?: string | null;
  config_version?: number;
  webhook_url?: string | null;
  last_run_at?: string | null;
  counts?: BundleCounts | null;
  held_count?: number | null;
  created_at?: string | null;
  updated_at?: string | null;
}

export interface Sample {
  data: Record<string, unknown> | null;
  captured_at?: string | null;
}

export interface PreviewResult {
  mapped: Record<string, unknown>;
  errors?: Array<{ field: string; message: string }>;
}

export type OperationStatus =
  | 'held'
  | 'queued'
  | 'processing'
  | 'retrying'
  | 'created'
  | 'updated'
  | 'unchanged'
  | 'skipped_duplicate'
  | 'not_found'
  | 'filtered'
  | 'failed';

export const OPERATION_STATUSES = [
  'held',
  'queued',
  'processing',
  'retrying',
  'created',
  'updated',
  'unchanged',
  'skipped_duplicate',
  'not_found',
  'filtered',
  'failed',
] as const satisfies readonly OperationStatus[];

export interface Step {
  id?: string;
  system?: 'source' | 'target' | string;
  method: string;
  url: string;
  request_headers?: Record<string, string> | null;
  request_body?: unknown;
  status_code?: number | null;
  response_headers?: Record<string, string> | null;
  response_body?: unknown;
  duration_ms?: number | null;
  error?: string | null;
  started_at?: string | null;
}

export interface Operation {
  id: string;
  bundle_id: string;
  event_id: string;
  status: OperationStatus;
  attempts: number;
  record_id?: string | null;
  error?: string | null;
  source_data?: unknown;
  mapped_data?: unknown;
  created_at: string;
  finished_at?: string | null;
  steps?: Step[];
}

export interface StatsBucket {
  /** ISO start of the bucket (hour or day). */
  t: string;
  counts: Record<string, number>;
}

export interface Stats {
  from?: string;
  to?: string;
  bucket?: 'hour' | 'day' | string;
  series: StatsBucket[];
  bundles?: Array<{ bundle_id: string; name?: string; counts: Record<string, number> }>;
}
