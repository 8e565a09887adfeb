import { describe, expect, it } from 'vitest';

import { bool, parseBoolean } from './http-helpers.js';

describe('boolean parameters as GitLab coerces them', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['1', true],
    [1, true],
    ['yes', true],
    ['t', true],
    ['on', true],
    [true, true],
    ['false', false],
    ['False', false],
    ['0', false],
    [0, false],
    ['no', false],
    ['off', false],
    [false, false],
    [undefined, undefined],
    ['', undefined],
    [null, undefined],
    ['maybe', null],
    [2, null],
  ])('%j → %j', (value, expected) => {
    expect(parseBoolean(value)).toBe(expected);
  });

  it('names the field and the fix when a value is not a boolean', () => {
    expect(() => bool({ recursive: 'maybe' }, 'recursive')).toThrow(
      'recursive is invalid: use true or false',
    );
  });
});
