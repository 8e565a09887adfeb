/**
 * The literal fast path against RE2 itself (re2js): for random plain-text patterns with anchors,
 * escapes and flags, and texts with the characters RE2's case folding treats specially, both
 * must give the same answer.
 */
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';

import { literalPattern, testLiteral } from './literal-regex.js';
import { compileRegex } from './re2.js';

const SEED = Number(process.env['FLOTILLA_FUZZ_SEED'] ?? 20261205);

const PATTERN_PIECES = [
  'a',
  'k',
  'S',
  's',
  'K',
  '-',
  '/',
  ' ',
  'é',
  '\\/',
  '\\.',
  '\\-',
  '\\$',
  '\\^',
  '_',
  '1',
];
const TEXT_CHARS = [
  'a',
  'A',
  'k',
  'K',
  's',
  'S',
  '\u212a',
  '\u017f',
  '-',
  '/',
  '.',
  '$',
  '^',
  'é',
  'É',
  '\n',
  '_',
  '1',
  ' ',
];

const pattern = fc
  .tuple(fc.boolean(), fc.array(fc.constantFrom(...PATTERN_PIECES), { maxLength: 5 }), fc.boolean())
  .map(([start, pieces, end]) => `${start ? '^' : ''}${pieces.join('')}${end ? '$' : ''}`);
const text = fc.array(fc.constantFrom(...TEXT_CHARS), { maxLength: 8 }).map((cs) => cs.join(''));
const flags = fc.constantFrom('', 'i', 'm', 's', 'im', 'U');

describe('literal patterns', () => {
  it('answers as RE2 does for every pattern it takes', () => {
    let taken = 0;
    fc.assert(
      fc.property(pattern, text, flags, (source, subject, f) => {
        const literal = literalPattern(source, f);
        const re2 = RE2JS.compile(f ? `(?${f})${source}` : source)
          .matcher(subject)
          .find();
        if (literal) {
          taken += 1;
          const answer = testLiteral(literal, subject);
          if (answer !== null) expect(answer, `/${source}/${f} on ${JSON.stringify(subject)}`).toBe(re2);
        }
        expect(compileRegex(source, f).test(subject), `/${source}/${f} on ${JSON.stringify(subject)}`).toBe(
          re2,
        );
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect(taken).toBeGreaterThan(1000);
  });

  it.each([
    ['^main$', '', true],
    ['skip ci', 'i', true],
    ['^release\\/', '', true],
    ['v1\\.2', '', true],
    ['v1.2', '', false],
    ['^a$', 'm', false],
    ['a+', '', false],
    ['\\d', '', false],
    ['é', 'i', false],
    ['\\\\$', '', false],
  ])('/%s/%s is literal: %s', (source, f, literal) => {
    expect(literalPattern(source, f) !== null).toBe(literal);
  });

  it('leaves a caseless match on non-ASCII text to RE2 (KELVIN SIGN folds to k)', () => {
    const p = literalPattern('ok', 'i');
    expect(p && testLiteral(p, 'O\u212a')).toBeNull();
    expect(compileRegex('ok', 'i').test('O\u212a')).toBe(true);
    expect(compileRegex('^main$', '').test('main\n')).toBe(false);
  });
});
