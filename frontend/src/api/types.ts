/**
 * API shapes from DESIGN.md, hand-typed until the generated `schema.d.ts`
 * (npm run gen:api) covers them. Names follow the design's vocabulary.
 */

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Role = 'owner' | 'editor' | 'viewer';

export interface User {
  id: string;
  email: string;
  name?: string | null;
}

export interface Workspace {
  id: string;
  name: string;
}

export interface Me {
  user: User;
  workspace: Workspace;
  role: Role;
  workspaces?: Workspace[];
}

export interface ApiKey {
  id: string;
  name: string;
  prefix?: string | null;
  created_at?: string | null;
  last_used_at?: string | null;
}

export interface ApiKeyCreated extends ApiKey {
  key: string;
}

export interface WorkspaceUser {
  id: string;
  email: string;
  name?: string | null;
  role: Role;
  created_at?: string | null;
}

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

export interface Connection {
  id: string;
  app: string;
  name: string;
  params: Record<string, unknown>;
  secrets_set: string[];
  created_at?: string | null;
  updated_at?: string | null;
  last_test?: ConnectionTestResult | null;
}

export interface ConnectionInput {
  app: string;
  name: string;
  params: Record<string, unknown>;
  secrets?: Record<string, string>;
}

export interface ConnectionTestResult {
  ok: boolean;
  stage: string;
  message: string;
}

export interface EntitySummary {
  name: string;
  label?: string | null;
}

export interface EntityField {
  name: string;
  type: string;
  required: boolean;
  lookup_entity?: string | null;
  label?: string | null;
  read_only?: boolean;
}

export interface EntityDetail {
  name: string;
  fields: EntityField[];
}

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
