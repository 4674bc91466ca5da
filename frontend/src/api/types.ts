/**
 * API shapes from DESIGN.md, hand-typed until the generated `schema.d.ts`
 * (npm run gen:api) covers them. Names follow the design's vocabulary.
 */

import type { components, operations } from './schema';

/** Shapes generated from the api's OpenAPI document (`npm run gen:api`). */
type Schemas = components['schemas'];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Role = Schemas['Role'];
export type User = Schemas['UserOut'];
export type Language = User['language'];
export type Workspace = Schemas['MeOut']['workspace'];
export type Me = Omit<Schemas['MeOut'], 'role'> & { role: Role };
export type ApiKey = Schemas['ApiKeyOut'];
export type ApiKeyCreated = Schemas['ApiKeyCreated'];
export type WorkspaceUser = Schemas['MemberOut'];

// ---- accounts and teams ----

export type AuthConfig = Schemas['AuthConfigOut'];
export type SignupMode = AuthConfig['signup'];
/** The sign-up form's fields; the language is the interface's, added by the hook. */
export type SignupInput = Omit<Schemas['SignupIn'], 'language'>;
export type SignupResult = Schemas['SignupOut'];
export type PasswordForgotResult = Schemas['PasswordForgotOut'];
export type InvitationPreview = Schemas['InvitationPreviewOut'];
export type ProfileInput = Schemas['ProfileIn'];
/** `link` only in the answer to the POST, and only when the invitation was not e-mailed. */
export type Invitation = Schemas['InvitationOut'];
export type ResetLink = Schemas['ResetLinkOut'];

type AuditQuery = NonNullable<operations['listAuditEntries']['parameters']['query']>;
export type AuditEntityType = NonNullable<AuditQuery['entity_type']>;
export const AUDIT_ENTITY_TYPES = ['connection', 'bundle', 'member', 'invitation', 'api_key', 'workspace'] as const satisfies readonly AuditEntityType[];
/** action, entity_type and via are plain strings in the schema; their values are listed in its descriptions. */
export type AuditEntry = Schemas['AuditEntryOut'];

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

export type BundleStatus = 'stopped' | 'running' | 'waiting' | 'error';
export type DedupMode = Schemas['DedupMode'];
export type UpdateRule = Schemas['UpdateRule'];
export type Lookup = Schemas['LookupSpec'];

/** A conversion step: a bare name (the api's shorthand, `"trim"` for `{"name": "trim"}`) or `{name, ...arguments}`. */
export type ConversionStep = string | { name: string; [param: string]: unknown };

/**
 * A mapping rule as the wizard edits it: conversions by editor name (`"phone_e164_ru"`), or as
 * the api's `{name, ...}` object when they carry arguments the editor keeps (a date's format and
 * time zone), so it is narrower than the generated type.
 */
export interface MappingRule {
  target: string;
  source?: string | null;
  template?: string | null;
  constant?: unknown;
  convert?: ConversionStep[];
  lookup?: Lookup | null;
}

export interface Dedup {
  mode: DedupMode;
  match_fields: string[];
  update_rules: Record<string, UpdateRule>;
}

/** The body of POST/PUT /bundles, as the wizard sends it. */
export interface BundleInput {
  name: string;
  source: { app: string; connection_id: string | null; trigger: string; config: Record<string, unknown> };
  target: { connection_id: string; action: 'create_record' | 'update_record'; entity: string };
  mapping: MappingRule[];
  dedup: Dedup;
  schedule: { interval_minutes: number };
}

type BundleOut = Schemas['BundleOut'];
export type Bundle = Omit<BundleOut, 'mapping' | 'dedup' | 'source' | 'target' | 'status' | 'schedule'> &
  Pick<BundleInput, 'source' | 'target' | 'dedup'> & {
    status: BundleStatus;
    /** As stored: conversions may come back as `{name, ...}` objects. */
    mapping: BundleInput['mapping'];
    schedule?: { interval_minutes: number } | null;
  };

export type Sample = Schemas['SampleOut'];
export type PreviewResult = Schemas['PreviewOut'];

export type OperationStatus = Schemas['OperationStatus'];
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

export type Operation = Schemas['OperationOut'] & { steps?: Step[] };
export type OperationDetail = Schemas['OperationDetail'];
export type Step = Schemas['StepOut'];
export type Stats = Schemas['StatsOut'];
export type StatsBucket = Schemas['StatsBucket'];

export type BackfillProgress = Schemas['BackfillProgress'];
export type ImportProgress = Schemas['ImportOut'];
