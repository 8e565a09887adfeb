import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layer rules: coordinator and runner meet only through src/api; only src/cli wires concrete objects. */
const layer = (from, banned) => ({
  files: [`src/${from}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: banned.map((b) => ({
          group: [`**/${b}/**`, `**/${b}`],
          message: `${from} must not import ${b}`,
        })),
      },
    ],
  },
});

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
  { files: ['bin/**', 'scripts/**', 'test/**', 'bench/**', '**/*.test.ts'], rules: { 'no-console': 'off' } },
  // Tests read loosely typed JSON answers of the REST API.
  { files: ['test/**', '**/*.test.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  layer('api', ['coordinator', 'runner', 'executors', 'cli', 'pipeline', 'config']),
  layer('shared', ['coordinator', 'runner', 'executors', 'cli', 'pipeline', 'config', 'api']),
  layer('coordinator', ['runner', 'executors', 'cli', 'config']),
  layer('runner', ['coordinator', 'cli', 'pipeline']),
  layer('executors', ['coordinator', 'cli', 'runner', 'pipeline']),
  layer('pipeline', ['coordinator', 'runner', 'executors', 'cli', 'config']),
  // The browser code reaches the coordinator only over HTTP.
  layer('ui', [
    'coordinator',
    'runner',
    'executors',
    'cli',
    'pipeline',
    'config',
    'api',
    'shared',
    'autoscaler',
  ]),
);
