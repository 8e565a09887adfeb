import js from '@eslint/js';
import tseslint from 'typescript-eslint';

import { partImports } from './scripts/lint/part-imports.js';

/**
 * What each top-level part of `src/` may import (docs/architecture.md's table, checked against this
 * map by test/integration/architecture.test.ts). Every other part is refused by lint, in production
 * code and tests alike; tests share kits through `test/kits/`, outside every part. `cli` wires
 * everything.
 */
export const PARTS = {
  api: [],
  shared: [],
  observability: ['shared'],
  pipeline: ['shared'],
  executors: ['api', 'shared'],
  helper: ['api', 'shared', 'executors'],
  autoscaler: ['api', 'shared', 'executors'],
  config: ['shared', 'executors', 'autoscaler'],
  runner: ['api', 'shared', 'observability', 'executors', 'config'],
  coordinator: ['api', 'shared', 'observability', 'pipeline'],
  ui: [],
  cli: '*',
};

/** Files that still hold a function over 80 lines (issue 14): shrink this list, never grow it. */
const LONG_FUNCTIONS_TO_SPLIT = [
  'src/autoscaler/taskscaler.ts',
  'src/runner/trace/trace-sender.ts',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'examples/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      'func-style': ['error', 'declaration', { allowArrowFunctions: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'max-lines': ['warn', 400],
    },
  },
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly' } } },
  {
    files: ['bin/**', 'scripts/**', 'test/**', 'harness/**', 'bench/**', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
  // Tests read loosely typed JSON answers of the REST API.
  {
    files: ['test/**', 'harness/**', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // No function over 80 lines in production code; tests (whose describe blocks are long by nature) are exempt,
  // and so, until each is split, the factories of LONG_FUNCTIONS_TO_SPLIT.
  {
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts', ...LONG_FUNCTIONS_TO_SPLIT],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { flotilla: { rules: { 'part-imports': partImports } } },
    rules: { 'flotilla/part-imports': ['error', { parts: PARTS }] },
  },
);
