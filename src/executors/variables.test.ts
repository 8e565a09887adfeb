import { describe, expect, it } from 'vitest';

import type { JobVariable } from '../api/runner-api.js';
import { expandVariables } from './variables.js';

const v = (key: string, value: string, extra: Partial<JobVariable> = {}): JobVariable => ({
  key,
  value,
  public: true,
  masked: false,
  ...extra,
});

describe('expandVariables', () => {
  it.each([
    ['$CI_PROJECT_DIR/.go', '/b/p/.go'],
    ['${CI_PROJECT_DIR}/x', '/b/p/x'],
    ['cost $$5', 'cost $5'],
    ['$UNDEFINED-x', '-x'],
    ['no refs', 'no refs'],
  ])('expands %j to %j', (value, expected) => {
    const out = expandVariables([v('CI_PROJECT_DIR', '/b/p'), v('X', value)]);
    expect(out[1]?.value).toBe(expected);
  });

  it('leaves raw and file variables alone', () => {
    const out = expandVariables([v('A', 'a'), v('R', '$A', { raw: true }), v('F', '$A', { file: true })]);
    expect(out.map((x) => x.value)).toEqual(['a', '$A', '$A']);
  });
});
