// One lint setup for the whole workspace: typescript-eslint's recommended rules plus our house rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { boundaries } from './infra/lint/boundaries.js';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.basalt/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Studio (services/platform/studio) is browser code: ES modules served as they are, no bundler.
    files: ['services/platform/studio/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(['window', 'document', 'location', 'navigator', 'sessionStorage', 'localStorage', 'FormData', 'Blob', 'URLSearchParams',
        'XMLHttpRequest', 'WebSocket', 'performance', 'confirm', 'prompt', 'addEventListener', 'removeEventListener'].map((g) => [g, 'readonly'])),
    },
  },
  {
    // STYLE.md "Boundaries": services never import each other, packages never import services, no deep imports.
    files: ['gateway/**/*.ts', 'services/**/*.ts', 'packages/**/*.ts', 'tests/**/*.ts', 'bench/**/*.ts', 'infra/**/*.ts'],
    plugins: { boundaries },
    rules: { 'boundaries/imports': 'error' },
  },
  {
    // STYLE.md: no console.* in service sources; logs go through pino.
    files: ['gateway/src/**/*.ts', 'services/*/src/**/*.ts', 'packages/!(cli)/src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
);
