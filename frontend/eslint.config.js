import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import reactRefresh from 'eslint-plugin-react-refresh';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Every folder under src/features is a feature: a new one gets the boundaries below without an edit here.
const FEATURES = readdirSync(new URL('./src/features', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

// The icon barrel makes Vite parse ~6,500 modules on every build; import icons one by one.
const ICON_BARREL = {
  name: '@tabler/icons-react',
  message: "Import each icon from '@tabler/icons-react/icons/IconName' (keeps the build fast).",
};
const restricted = (patterns) => ['error', { paths: [ICON_BARREL], patterns }];

/**
 * Import boundaries (bulletproof-react style):
 * - shared layers (src/components, src/lib, src/api, src/i18n) never import features or the app;
 * - a feature imports its own files relatively, and from another feature only its `api`
 *   (data hooks), never its components;
 * - only src/app composes features into pages.
 */
const featureBoundaries = FEATURES.map((feature) => ({
  files: [`src/features/${feature}/**/*.{ts,tsx}`],
  rules: {
    'no-restricted-imports': restricted([
          {
            group: ['@/features/*/components', '@/features/*/components/**', `!@/features/${feature}/components`, `!@/features/${feature}/components/**`],
            message: 'Features may use another feature only through its api folder.',
          },
          { group: ['@/app', '@/app/**'], message: 'Features do not import the app layer.' },
          { group: ['../../../*', '../../../../*'], message: 'Leave the feature through @/ imports, not relative paths.' },
    ]),
  },
}));

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'e2e/artifacts', 'src/api/schema.d.ts'] },
  {
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    files: ['**/*.{ts,tsx}'],
    languageOptions: { ecmaVersion: 2022, globals: globals.browser },
    plugins: { 'react-hooks': reactHooks, 'react-refresh': reactRefresh },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': restricted([]),
    },
  },
  {
    files: ['src/components/**', 'src/lib/**', 'src/api/**', 'src/i18n/**', 'src/test/**'],
    rules: {
      'no-restricted-imports': restricted([
        { group: ['@/features/*', '@/features/**', '@/app/*'], message: 'Shared code does not depend on features or the app.' },
      ]),
    },
  },
  ...featureBoundaries,
  {
    files: ['e2e/**/*.{js,mjs,ts}', 'scripts/**/*.{js,mjs}', '*.config.{js,ts,cjs}'],
    languageOptions: { globals: globals.node },
  },
);
