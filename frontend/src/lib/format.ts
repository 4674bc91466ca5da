import i18n from '@/i18n';

/**
 * The time zone times are shown in: the signed-in user's profile time zone
 * (set by the auth layer), else the browser's.
 */
let displayTimeZone: string | undefined;

/** True when `tz` is an IANA zone this browser knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Sets the zone times are shown in; an unknown or empty zone falls back to the browser's. */
export function setDisplayTimeZone(tz: string | null | undefined): void {
  displayTimeZone = tz && isValidTimeZone(tz) ? tz : undefined;
}

export function getDisplayTimeZone(): string | undefined {
  return displayTimeZone;
}

/** The browser's own time zone (what a new account starts with). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Every IANA zone the browser knows, UTC included, sorted. */
export function timeZones(): string[] {
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return [...new Set(['UTC', ...supported])].sort();
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(i18n.resolvedLanguage ?? 'en', {
    dateStyle: 'medium',
    timeStyle: 'medium',
    timeZone: displayTimeZone,
  }).format(d);
}

/** A date-time formatter in the display time zone (for charts and compact labels). */
export function dateTimeFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(i18n.resolvedLanguage ?? 'en', { timeZone: displayTimeZone, ...options });
}

export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const d = new Date(iso).getTime();
  if (Number.isNaN(d)) return iso;
  const diff = Math.round((d - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(i18n.resolvedLanguage ?? 'en', { numeric: 'auto' });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(diff, 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}
