/**
 * The app's names for the api's shapes, taken from the generated `schema.d.ts` (`npm run gen:api`);
 * the client (`@/lib/api-client`) types each call's answer from it directly. What is written by
 * hand here is either the SPA's own view (the catalog as `normalizeApp` shapes it, the wizard's
 * mapping rules) or a narrowing of a field the schema leaves open, each saying which.
 */

import type { components, operations } from './schema';

type Schemas = components['schemas'];

export type Role = Schemas['Role'];
export type Language = Schemas['UserOut']['language'];
export type Workspace = Schemas['MeOut']['workspace'];
export type MeOut = Schemas['MeOut'];
/** `MeOut` with the `role` the schema leaves open (any string) narrowed to what the api sends. */
export type Me = Omit<MeOut, 'role'> & { role: Role };
export type ApiKey = Schemas['ApiKeyOut'];
export type ApiKeyCreated = Schemas['ApiKeyCreated'];
export type WorkspaceUser = Schemas['MemberOut'];

// ---- accounts and teams ----

/** The sign-up form's fields; the language is the interface's, added by the hook. */
export type SignupInput = Omit<Schemas['SignupIn'], 'language'>;
export type SignupResult = Schemas['SignupOut'];
export type InvitationPreview = Schemas['InvitationPreviewOut'];
export type ProfileInput = Schemas['ProfileIn'];
export type LoginInput = Schemas['LoginIn'];
export type PasswordResetInput = Schemas['PasswordResetIn'];
export type PasswordChangeInput = Schemas['PasswordChangeIn'];
/** `link` only in the answer to the POST, and only when the invitation was not e-mailed. */
export type Invitation = Schemas['InvitationOut'];
export type InvitationInput = Schemas['InvitationIn'];

type AuditQuery = NonNullable<operations['listAuditEntries']['parameters']['query']>;
export type AuditEntityType = NonNullable<AuditQuery['entity_type']>;
export const AUDIT_ENTITY_TYPES = ['connection', 'bundle', 'member', 'invitation', 'api_key', 'workspace'] as const satisfies readonly AuditEntityType[];
/** action, entity_type and via are plain strings in the schema; their values are listed in its descriptions. */
export type AuditEntry = Schemas['AuditEntryOut'];

// ---- the catalog as the SPA uses it: `normalizeApp` builds it from the schema's `App` ----

type FieldType = 'string' | 'text' | 'password' | 'url' | 'integer' | 'number' | 'boolean' | 'select' | 'json';

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
  /** Kept under «Дополнительно» (paging, cursors): the simple form leaves it out. */
  advanced?: boolean;
}

/** Whether a field applies for the values given (a field not set counts as its default). */
export function fieldShown(field: AppField, values: Record<string, unknown>, fields: readonly AppField[]): boolean {
  return Object.entries(field.visible_if ?? {}).every(([name, allowed]) => {
    const value = values[name] ?? fields.find((f) => f.name === name)?.default;
    return allowed.includes(value);
  });
}

/** A field a source app sends, labelled, as the mapping step offers it before any request arrives. */
export type SourceField = Schemas['SourceField'];
export type AppCategory = Schemas['App']['category'];

export interface AppTrigger {
  name: string;
  label?: string | Record<string, string> | null;
  description?: string | Record<string, string> | null;
  kind?: 'webhook' | 'polling' | 'import' | string;
  /** The trigger's config form (verification secrets, the form's id …). */
  config_fields?: AppField[];
  /** The fields its items carry (`path`, label, example). */
  fields?: SourceField[];
  /** null: the app's `needs_connection`. */
  needs_connection?: boolean | null;
  /** Markdown in ru and en; `{url}` stands for the bundle's webhook URL. */
  instructions?: Record<string, string> | null;
  body_template?: string | null;
  /** How the gateway verifies its requests (informational here: it says whether a secret is asked for). */
  webhook?: Schemas['WebhookRules'] | null;
  /** A call back to the source for each item (Bitrix24, amoCRM…): it needs the source connection. */
  readback?: Schemas['ReadBack'] | null;
}

interface AppAction {
  name: string;
  label?: string | Record<string, string> | null;
  fields?: AppField[];
}

export interface App {
  name: string;
  label?: string | Record<string, string> | null;
  description?: string | Record<string, string> | null;
  category?: AppCategory;
  keywords?: string[];
  connection_fields?: AppField[];
  needs_connection?: boolean;
  triggers?: AppTrigger[];
  actions?: AppAction[];
}

export type Connection = Schemas['ConnectionOut'];
export type ConnectionInput = Schemas['ConnectionIn'];
export type ConnectionTestResult = Schemas['TestResult'];
// `caption`, `type_caption`: in the reader's language (DESIGN.md "Captions").
export type EntitySummary = Schemas['EntitySummary'];
export type EntityField = Schemas['FieldOut'];

/** What `BundleOut.status` holds; the schema says only "a string". */
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

export type Dedup = Schemas['DedupPolicy'];

/**
 * The body of POST/PUT /bundles, as the wizard sends it: the schema's `BundleIn` with every part
 * present, except that a conversion step may be a bare name (`"trim"`) that leaves its arguments to
 * the api's defaults, which the api takes but the schema does not say (it lists each step as an
 * object with its defaulted arguments required).
 */
export interface BundleInput {
  name: Schemas['BundleIn']['name'];
  /** Write-only: the webhook's verification secret; sent only when the user types one. */
  webhook_secret?: Schemas['BundleIn']['webhook_secret'];
  source: Required<Schemas['SourceConfig']>;
  target: Schemas['TargetConfig'];
  mapping: MappingRule[];
  dedup: Dedup;
  schedule: Required<Schemas['Schedule']>;
}

/**
 * A bundle as the api answers it: the schema's `BundleOut`, with what the schema leaves open
 * (`status` any string, the stored `mapping` free objects) narrowed to what the api sends.
 */
export type Bundle = Omit<Schemas['BundleOut'], 'mapping' | 'dedup' | 'source' | 'target' | 'status' | 'schedule'> &
  Pick<BundleInput, 'source' | 'dedup'> & {
    /** Round 1's shape, mirrored only for a bundle of one create/update step (null otherwise). */
    target?: BundleInput['target'] | null;
    status: BundleStatus;
    /** As stored: conversions may come back as `{name, ...}` objects. */
    mapping: MappingRule[];
    schedule?: BundleInput['schedule'] | null;
  };

export type SampleInput = Schemas['SampleIn'];
export type PreviewInput = Schemas['PreviewIn'];
export type PreviewResult = Schemas['PreviewOut'];

/** `test`: a sender's test request (Tilda's `test=test`, VK's confirmation …), kept in history, never pushed. */
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
  'test',
] as const satisfies readonly OperationStatus[];

export type Operation = Schemas['OperationOut'] & { steps?: Step[] };
export type Step = Schemas['StepOut'];
export type StatsBucket = Schemas['StatsBucket'];

export type BackfillProgress = Schemas['BackfillProgress'];
export type ImportProgress = Schemas['ImportOut'];

// ---- Bundle steps (issue 16) -----------------------------------------------------------

export const STEP_ACTIONS = ['find_record', 'create_record', 'update_record', 'create_activity', 'run_process', 'attach_file'] as const satisfies readonly Schemas['StepAction'][];
export type StepAction = Schemas['StepAction'];

export type FilterOperator = Schemas['Condition']['op'];
/** A condition as the editor makes it (`case_sensitive` left to the api's default). */
export type FilterCondition = Omit<Schemas['Condition'], 'case_sensitive'> & { case_sensitive?: boolean };
export interface FilterGroup {
  join: 'and' | 'or';
  conditions: Array<FilterCondition | FilterGroup>;
}

/** A task's options, every part present (the api defaults the participants). */
export type ActivityOptions = Required<Schemas['ActivityOptions']>;

/** A message a person reads: a stable code with params (English `text` beside it); `remote`: bpm'online's own words. */
export type CodedMessage = Pick<Schemas['Message'], 'code'> & Partial<Omit<Schemas['Message'], 'code'>>;

export type StepResultKind = Schemas['StepOutcome'];
/** One bundle step's result in an operation's read (the list has only key, action, result and record). */
export type StepResult = Schemas['StepResultOut'];
export type StepPreviewProblem = Schemas['FieldProblem'];
/** One step of `POST /bundles/{id}/preview`'s `steps`; `stand_ins`: what an earlier step's result will be (`{"steps.contact.Id": "<guid>"}`). */
export type StepPreview = Schemas['StepPreview'];
/** An operation's read: its HTTP requests are `requests` (`steps` their deprecated alias), its bundle steps' results `step_results`. */
export type OperationDetail = Schemas['OperationDetail'];
