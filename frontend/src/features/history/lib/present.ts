/** How history shows what an operation holds: URLs as a person reads them, systems by name, data as rows. */

/** An app of the catalog (`GET /api/v1/apps`) as the SPA keeps it: `name` is its key. */
export interface CatalogApp {
  name: string;
  label?: string | Record<string, string> | null;
}

/** A request's URL with its query decoded (`$filter=tolower(Email) eq '…'`, not `%24filter=…`). */
export function decodeUrl(url: string): string {
  const [path, query] = splitOnce(url, '?');
  const decoded = (part: string) => {
    try {
      return decodeURIComponent(part.replace(/\+/g, ' '));
    } catch {
      return part; // a malformed escape: shown as sent
    }
  };
  if (query === undefined) return decoded(path);
  return `${decoded(path)}?${query.split('&').map(decoded).join('&')}`;
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const at = text.indexOf(sep);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** The system a request went to, by name: bpm'online, or the source app's name from the catalog. */
export function systemName(system: string, apps: CatalogApp[], lang: string): string {
  if (system === 'bpmonline' || system === 'target') return "bpm'online";
  const label = apps.find((a) => a.name === system)?.label;
  if (typeof label === 'string') return label;
  return label?.[lang.startsWith('ru') ? 'ru' : 'en'] ?? label?.en ?? system;
}

export interface FieldRow {
  field: string;
  value: string;
}

/** The fields of a data object as rows (nested objects as dotted paths, lists and scalars as text). */
export function fieldRows(data: unknown, prefix = ''): FieldRow[] {
  if (data == null || typeof data !== 'object' || Array.isArray(data)) {
    return prefix ? [{ field: prefix, value: valueText(data) }] : [];
  }
  return Object.entries(data as Record<string, unknown>).flatMap(([key, value]) => {
    const field = prefix ? `${prefix}.${key}` : key;
    return value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length
      ? fieldRows(value, field)
      : [{ field, value: valueText(value) }];
  });
}

export interface ChangeRow {
  field: string;
  old: string;
  new: string;
}

/** An update's `{column: [old, new]}` as rows. */
export function changeRows(changes: Record<string, unknown[]> | null | undefined): ChangeRow[] {
  return Object.entries(changes ?? {}).map(([field, pair]) => ({
    field,
    old: valueText(pair?.[0]),
    new: valueText(pair?.[1]),
  }));
}

export function valueText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
