/// <reference types="vite/client" />
/**
 * The server's words (DESIGN.md "Messages in the user's language"): the SAME catalogs the api renders
 * from, `bpmlink/kit/locales/<lang>/<area>.json`, merged per language into the i18next namespace
 * `server`, so a code's words live in one place for both.
 */
const files = import.meta.glob<Record<string, string>>('../../../bpmlink/kit/locales/*/*.json', {
  eager: true,
  import: 'default',
});

export const serverCatalogs: Record<string, Record<string, string>> = {};
for (const [path, words] of Object.entries(files)) {
  const language = path.split('/').at(-2) ?? 'en';
  serverCatalogs[language] = { ...serverCatalogs[language], ...words };
}
