import { describe, expect, it } from 'vitest';

import type { VariableRecord } from '../../store/store.js';
import { pickScoped } from './scoped-variables.js';

function v(key: string, environmentScope: string, value: string, protectedVar = false): VariableRecord {
  return {
    projectId: 1,
    key,
    value,
    variableType: 'env_var',
    protected: protectedVar,
    masked: false,
    raw: false,
    environmentScope,
    description: null,
  };
}

const VARS = [
  v('DB', '*', 'default'),
  v('DB', 'review/*', 'any-review'),
  v('DB', 'review/feat-*', 'feature-review'),
  v('DB', 'review/feat-1', 'exact'),
  v('DB', 'production', 'prod'),
  v('KEY', 'production', 'prod-key', true),
  v('ONLY', 'staging', 'staging-only'),
];

describe('pickScoped', () => {
  it.each([
    ['review/feat-1', true, { DB: 'exact' }],
    ['review/feat-2', true, { DB: 'feature-review' }],
    ['review/other', true, { DB: 'any-review' }],
    ['production', true, { DB: 'prod', KEY: 'prod-key' }],
    ['production', false, { DB: 'prod' }],
    ['reviewer', true, {}],
    ['Production', true, {}],
  ])('%s (protected ref: %s) gets %o; never the * scope', (environment, refProtected, expected) => {
    const picked = pickScoped(VARS, environment, refProtected);
    expect(Object.fromEntries(picked.map((p) => [p.key, p.value]))).toEqual(expected);
  });
});
