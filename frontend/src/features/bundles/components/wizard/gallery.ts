import type { TFunction } from 'i18next';
import type { App, AppCategory } from '@/api/types';
import { localized } from '@/i18n';

/** The gallery's tabs, in order; `all` shows every app. */
export const GALLERY_CATEGORIES = ['all', 'forms', 'crm', 'shops', 'files', 'generic'] as const satisfies readonly ('all' | AppCategory)[];
export type GalleryCategory = (typeof GALLERY_CATEGORIES)[number];

/** Case and «ё» do not matter when searching (users type «тильда», «Ёлка» or «елка»). */
export function normalizeSearch(text: string): string {
  return text.toLocaleLowerCase('ru').replace(/ё/g, 'е').replace(/\s+/g, ' ').trim();
}

function texts(label: App['label'] | App['description']): string[] {
  if (!label) return [];
  return typeof label === 'string' ? [label] : Object.values(label);
}

/** Everything an app is found by: its key, its name and description in every language, its keywords. */
function haystack(app: App): string {
  return normalizeSearch([app.name, ...texts(app.label), ...texts(app.description), ...(app.keywords ?? [])].join(' \u0000 '));
}

/** Apps in the category whose text holds every word of the query, in the catalog's order. */
export function filterApps(apps: App[], query: string, category: GalleryCategory): App[] {
  const words = normalizeSearch(query).split(' ').filter(Boolean);
  return apps.filter((a) => {
    if (category !== 'all' && (a.category ?? 'generic') !== category) return false;
    const text = haystack(a);
    return words.every((w) => text.includes(w));
  });
}

/** An app's name in the interface language (the catalog's label, else a translation of its key). */
export function appLabel(a: App, t: TFunction): string {
  return localized(a.label, t(`apps.${a.name}`, { defaultValue: a.name }));
}
