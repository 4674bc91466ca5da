import type { ComboboxItem, OptionsFilter } from '@mantine/core';

/** «Мобильный телефон (MobilePhone)»: a bpm'online entity or column by its caption, its code beside it. */
export function captionLabel(caption: string | null | undefined, code: string): string {
  return caption && caption !== code ? `${caption} (${code})` : code;
}

/** Lower case, ё read as е: what a person types matches whichever of the two the caption uses. */
export function foldText(text: string): string {
  return text.toLocaleLowerCase().replace(/ё/g, 'е');
}

/** Whether `query` is found in any of `texts` (a caption, a code), whatever the case and ё/е. */
export function matchesQuery(query: string, ...texts: Array<string | null | undefined>): boolean {
  const q = foldText(query.trim());
  return !q || texts.some((t) => !!t && foldText(t).includes(q));
}

/** A Mantine Select filter matching an option's label («Caption (Code)») or value (the code). */
export const captionFilter: OptionsFilter = ({ options, search }) =>
  (options as ComboboxItem[]).filter((o) => matchesQuery(search, o.label, o.value));
