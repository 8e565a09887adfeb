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
  runner: ['api', 'shared', 'observability', 'executors', 'autoscaler'],
  coordinator: ['api', 'shared', 'observability', 'pipeline'],
  ui: [],
  cli: '*',
};

/** Files that still hold a function over 80 lines (issue 14): shrink this list, never grow it. */
const LONG_FUNCTIONS_TO_SPLIT = [];

const SQL_DIR = 'src/coordinator/store/sql';
const DRIVER = {
  pg: { name: 'pg', message: `PostgreSQL's driver belongs in ${SQL_DIR}/postgres/.` },
  sqlite: { name: 'better-sqlite3', message: `SQLite's driver belongs in ${SQL_DIR}/sqlite/.` },
};

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
  // Each database driver is imported only in its dialect's folder of the store (which create-store
  // loads on demand), so a coordinator on SQLite never loads pg and one on PostgreSQL never loads
  // better-sqlite3.
  {
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts', `${SQL_DIR}/sqlite/**`, `${SQL_DIR}/postgres/**`],
    rules: { 'no-restricted-imports': ['error', { paths: [DRIVER.pg, DRIVER.sqlite] }] },
  },
  {
    files: [`${SQL_DIR}/sqlite/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [DRIVER.pg] }] },
  },
  {
    files: [`${SQL_DIR}/postgres/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [DRIVER.sqlite] }] },
  },
  // The runner's config.toml (src/runner/config) composes what the executors and providers own, as
  // they register it statically: the executors' table (executors/config-registry), the autoscaler's
  // docker-autoscaler entry (autoscaler/executor-config), the port they share
  // (executors/executor-config) and the provider registry; never an executor's or a provider's
  // modules themselves. Its tests may check a config module through the schema.
  {
    files: ['src/runner/config/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          // The drivers' rule (above) too: a later block's options replace an earlier one's.
          paths: [DRIVER.pg, DRIVER.sqlite],
          patterns: [
            {
              regex:
                '/(executors|autoscaler)/(?!(config-registry|executor-config)\\.js$|providers/registry\\.js$)',
              message:
                "The runner's config imports only what executors and providers register: executors/config-registry, executors/executor-config (the port), autoscaler/executor-config and the provider registry.",
            },
          ],
        },
      ],
    },
  },
  // The web UI is browser code: of the packages, it imports only Preact and htm (its row of the
  // table); of the parts, nothing (the part map below). Its tests run under vitest.
  {
    files: ['src/ui/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\.{1,2}/|preact(/|$)|htm$)',
              message: 'The web UI (src/ui) imports only preact and htm (docs/architecture.md).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { flotilla: { rules: { 'part-imports': partImports } } },
    rules: { 'flotilla/part-imports': ['error', { parts: PARTS }] },
  },
);
