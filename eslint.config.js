// `npm run lint`: lint rules only (no formatting rules; nobody reformats the codebase).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'test/artifacts/**', 'bench/results/**', 'coverage/**', '.faultline/**', '**/*.svelte'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a parameter or a destructured rest that is there on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `let status = 0` before a try that assigns it is how the retry loops read best.
      'no-useless-assignment': 'off',
    },
  },
  {
    // The scrubber's scanning loops advance two counters with a comma (`j++, spaces++`).
    files: ['schema/src/scrub.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  {
    // Tests read JSON answers loosely.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['dashboard/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
