import { ApiError } from './api-client';

/**
 * Maps the server's validation details onto form field paths.
 * `prefix` is stripped (`body.` / a sub-object) and `aliases` rename server paths
 * to form paths, e.g. `{'params.domain': 'domain'}`.
 * `byCode` gives a translated text for an error code (`weak_password`); it replaces the
 * server's message on the fields, or the message itself when there are no field details.
 * Returns the errors for fields the form knows and the remaining messages.
 */
export function mapServerErrors(
  error: unknown,
  knownFields: readonly string[],
  aliases: Record<string, string> = {},
  byCode: Record<string, string> = {},
): { fields: Record<string, string>; rest: string[] } {
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  if (!(error instanceof ApiError)) {
    rest.push(error instanceof Error ? error.message : String(error));
    return { fields, rest };
  }
  const list = error.fieldErrors;
  const translated = byCode[error.code];
  if (list.length === 0) rest.push(translated ?? error.message);
  for (const { field, message: serverMessage } of list) {
    const message = translated ?? serverMessage;
    const path = field.replace(/^body\./, '');
    const mapped = aliases[path] ?? path;
    const hit = knownFields.find((k) => k === mapped || mapped.startsWith(`${k}.`) || mapped.startsWith(`${k}[`));
    if (hit && !fields[hit]) fields[hit] = message;
    else if (!hit) rest.push(`${field}: ${message}`);
  }
  return { fields, rest };
}
