import { afterEach, describe, expect, it } from 'vitest';
import i18n from '@/i18n';
import { formatDateTime, setDisplayTimeZone, timeZones } from './format';

afterEach(() => setDisplayTimeZone(undefined));

describe('formatDateTime', () => {
  it('shows times in the display time zone', async () => {
    await i18n.changeLanguage('en');
    setDisplayTimeZone('UTC');
    expect(formatDateTime('2026-11-27T21:30:00Z')).toBe('Nov 27, 2026, 9:30:00 PM');
    setDisplayTimeZone('Europe/Moscow');
    expect(formatDateTime('2026-11-27T21:30:00Z')).toBe('Nov 28, 2026, 12:30:00 AM');
  });

  it('ignores an unknown zone instead of failing', () => {
    setDisplayTimeZone('Mars/Olympus');
    expect(formatDateTime('2026-11-27T21:30:00Z')).toMatch(/2026/);
  });

  it('lists IANA zones with UTC', () => {
    const zones = timeZones();
    expect(zones).toContain('UTC');
    expect(zones).toContain('Europe/Moscow');
  });
});
