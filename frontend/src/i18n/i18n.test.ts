import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import en from './locales/en.json';
import ru from './locales/ru.json';
import { serverCatalogs } from './server';

const PLURAL = /_(zero|one|two|few|many|other)$/;

function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}
/** Plural forms differ per language (ru has few/many), so compare the base keys. */
const base = (list: string[]) => [...new Set(list.map((k) => k.replace(PLURAL, '')))].sort();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx)$/.test(name) && !/\.test\./.test(name) ? [p] : [];
  });
}

describe('locales', () => {
  it('English and Russian have the same keys', () => {
    expect(base(keys(ru))).toEqual(base(keys(en)));
  });

  it("the server's catalogs are loaded, with the same codes in both languages", () => {
    const { en: serverEn = {}, ru: serverRu = {} } = serverCatalogs;
    expect(Object.keys(serverEn).length).toBeGreaterThan(100);
    expect(base(Object.keys(serverRu))).toEqual(base(Object.keys(serverEn)));
    expect(serverRu.login_wrong_credentials).toBe('Неверное имя пользователя или пароль');
  });

  it("a server message's code has its words in one place only", () => {
    // The SPA renders server codes from the `server` namespace; its own dictionaries keep none of them.
    const twice = Object.keys(serverCatalogs.en ?? {}).filter((code) => keys(en).includes(`messages.${code}`));
    expect(twice).toEqual([]);
  });

  it('Russian has every plural form its grammar needs', () => {
    const plurals = keys(ru).filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, ''));
    for (const k of new Set(plurals)) {
      for (const form of ['one', 'few', 'many']) expect(keys(ru)).toContain(`${k}_${form}`);
    }
  });

  it('no translation is empty', () => {
    const values = (obj: object): string[] =>
      Object.values(obj).flatMap((v) => (v && typeof v === 'object' ? values(v as object) : [String(v)]));
    expect(values(en).filter((v) => !v.trim())).toEqual([]);
    expect(values(ru).filter((v) => !v.trim())).toEqual([]);
  });

  it('every literal key used in the code exists in both languages', () => {
    const known = new Set(base(keys(en)));
    const used = new Set<string>();
    // t('a.b'), t("a.b"), and keys given as data: key: 'nav.x', 'wizard.pickEntity'
    const patterns = [/\bt\(\s*'([a-zA-Z][\w]*(?:\.[\w]+)+)'/g, /'((?:common|wizard|nav)\.[a-zA-Z][\w.]*)'/g];
    for (const file of sourceFiles(join(__dirname, '..'))) {
      const text = readFileSync(file, 'utf8');
      for (const re of patterns) for (const m of text.matchAll(re)) used.add(m[1]!);
    }
    const missing = [...used].filter((k) => !known.has(k));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(100);
  });
});
