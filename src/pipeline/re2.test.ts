import { describe, expect, it } from 'vitest';

import { evaluateCondition } from './expression-eval.js';
import { ExpressionError, parseExpression } from './expression.js';
import { compileRegex, RegexSyntaxError } from './re2.js';

/**
 * The regex cases of GitLab's own expression statement spec
 * (spec/lib/gitlab/ci/pipeline/expression/statement_spec.rb), with its variables, through our
 * `rules:if` evaluator: the answers GitLab's RE2 gives.
 */
const GITLAB_VARS = {
  PRESENT_VARIABLE: 'my variable',
  PATH_VARIABLE: 'a/path/variable/value',
  FULL_PATH_VARIABLE: '/a/full/path/variable/value',
  EMPTY_VARIABLE: '',
  teststring: 'abcde',
  pattern1: '/^ab.*/',
  pattern2: '/^at.*/',
};

const GITLAB_STATEMENTS: [string, boolean][] = [
  ['$PRESENT_VARIABLE =~ /var.*e$/', true],
  ['$PRESENT_VARIABLE =~ /va\\r.*e$/', false],
  ['$PRESENT_VARIABLE =~ /va\\/r.*e$/', false],
  ['$PRESENT_VARIABLE =~ /^var.*/', false],
  ['$EMPTY_VARIABLE =~ /var.*/', false],
  ['$UNDEFINED_VARIABLE =~ /var.*/', false],
  ['$PRESENT_VARIABLE =~ /VAR.*/i', true],
  ['$PATH_VARIABLE =~ /path\\/variable/', true],
  ['$FULL_PATH_VARIABLE =~ /^\\/a\\/full\\/path\\/variable\\/value$/', true],
  ['$FULL_PATH_VARIABLE =~ /\\/path\\/variable\\/value$/', true],
  ['$PRESENT_VARIABLE !~ /var.*e$/', false],
  ['$PRESENT_VARIABLE !~ /^var.*/', true],
  ['$PRESENT_VARIABLE !~ /^v\\ar.*/', true],
  ['$PRESENT_VARIABLE !~ /^v\\/ar.*/', true],
  ['$EMPTY_VARIABLE !~ /var.*/', true],
  ['$UNDEFINED_VARIABLE !~ /var.*/', true],
  ['$PRESENT_VARIABLE !~ /VAR.*/i', false],
  ['$PRESENT_VARIABLE =~ /my var/ && $EMPTY_VARIABLE =~ /nope/', false],
  [
    '$FULL_PATH_VARIABLE =~ /^\\/a\\/full\\/path\\/variable\\/value$/ && $PATH_VARIABLE =~ /path\\/variable/',
    true,
  ],
  [
    '$FULL_PATH_VARIABLE =~ /^\\/a\\/bad\\/path\\/variable\\/value$/ && $PATH_VARIABLE =~ /path\\/variable/',
    false,
  ],
  [
    '$FULL_PATH_VARIABLE =~ /^\\/a\\/bad\\/path\\/variable\\/value$/ || $PATH_VARIABLE =~ /path\\/variable/',
    true,
  ],
  [
    '$FULL_PATH_VARIABLE =~ /^\\/a\\/bad\\/path\\/variable\\/value$/ || $PATH_VARIABLE =~ /bad\\/path\\/variable/',
    false,
  ],
  ['$PRESENT_VARIABLE =~ /my var/ || $EMPTY_VARIABLE =~ /nope/', true],
  ['$PRESENT_VARIABLE =~ /var.*/', true],
  ['$teststring =~ $pattern1', true],
  ['$teststring =~ $pattern2', false],
];

describe("GitLab's rules:if regex cases", () => {
  it.each(GITLAB_STATEMENTS)('%s → %s', (expression, expected) => {
    expect(evaluateCondition(expression, GITLAB_VARS)).toBe(expected);
  });
});

/** RE2 syntax beyond JavaScript's RegExp, as RE2's syntax reference documents it. */
const RE2_CASES: [pattern: string, flags: string, text: string, matches: boolean][] = [
  // Unicode classes and scripts.
  ['^\\p{Greek}+$', '', 'αβγ', true],
  ['^\\p{Greek}+$', '', 'abc', false],
  ['^\\P{Greek}+$', '', 'abc', true],
  ['^\\p{^Greek}+$', '', 'abc', true],
  ['^[\\p{Greek}\\d]+$', '', 'π3', true],
  ['^\\p{Han}+$', '', '漢字', true],
  ['^\\pL+$', '', 'héllo', true],
  ['^\\pN$', '', '٣', true],
  ['^\\p{Lu}', '', 'Éa', true],
  ['^\\p{Lu}', '', 'éa', false],
  // Perl classes are ASCII-only in RE2.
  ['^\\d$', '', '٣', false],
  ['^\\w+$', '', 'héllo', false],
  ['^\\s$', '', '\u000b', false],
  ['^\\s$', '', '\t', true],
  ['\\bcafé\\b', '', 'un café', false],
  // A dot is one code point, not one UTF-16 unit.
  ['^.$', '', '😀', true],
  ['^[^a]$', '', '😀', true],
  ['^\\x{1F600}$', '', '😀', true],
  // Case-insensitive: flag, group, scoped group, simple case folding.
  ['^main$', 'i', 'MAIN', true],
  ['(?i)^main$', '', 'MaIn', true],
  ['^(?i:ma)in$', '', 'MAin', true],
  ['^(?i:ma)in$', '', 'maIN', false],
  ['(?i)^k$', '', '\u212a', true],
  ['(?i)^s$', '', 'ſ', true],
  ['(?i)^σ+$', '', 'Σς', true],
  ['(?i)^[a-z]+$', '', 'ABC', true],
  ['^[[:upper:]]$', 'i', 'a', true],
  // POSIX classes.
  ['^[[:alpha:]]+$', '', 'abcXYZ', true],
  ['^[[:digit:]]+$', '', '12a', false],
  ['^[[:^digit:]]+$', '', 'abc', true],
  ['^[[:xdigit:]]+$', '', 'c0ffee', true],
  ['^[[:word:]]+$', '', 'a_1', true],
  ['^[[:punct:]]+$', '', '!?.', true],
  ['^[[:space:]]$', '', '\u000b', true],
  // Literal text.
  ['^\\Qa.b*\\E$', '', 'a.b*', true],
  ['^\\Qa.b*\\E$', '', 'axbb', false],
  ['^\\Q(unclosed$', '', '(unclosed$', true],
  // Anchors and flags.
  ['^a$', '', 'a\n', false],
  ['^b$', 'm', 'a\nb', true],
  ['\\Ab\\z', 'm', 'a\nb', false],
  ['a.b', '', 'a\nb', false],
  ['a.b', 's', 'a\nb', true],
  ['(?s)a.b', '', 'a\nb', true],
  ['a+?', 'U', 'aaa', true],
  // Repetition up to RE2's limit of 1000.
  ['^a{1000}$', '', 'a'.repeat(1000), true],
  ['^a{2,}$', '', 'a', false],
  // Named groups, both spellings.
  ['(?P<v>v)\\d', '', 'v1', true],
  ['(?<v>v)\\d', '', 'v1', true],
];

describe('RE2 syntax', () => {
  it.each(RE2_CASES)('/%s/%s on %j → %s', (pattern, flags, text, expected) => {
    expect(compileRegex(pattern, flags).test(text)).toBe(expected);
  });
});

/** Patterns RE2 refuses, with the reason the error must give. */
const INVALID: [pattern: string, reason: RegExp][] = [
  ['(abc', /missing closing \)/],
  ['abc)', /unexpected \)/],
  ['[abc', /missing closing \]/],
  ['[z-a]', /invalid character class range: z-a/],
  ['a**', /invalid nested repetition operator: \*\*/],
  ['*a', /missing argument to repetition operator: \*/],
  ['a{1001}', /invalid repeat count: \{1001\}/],
  ['(a{1000}){1000}', /invalid repeat count/],
  ['a{2,1}', /invalid repeat count: \{2,1\}/],
  ['\\8', /invalid escape sequence: \\8/],
  ['\\q', /invalid escape sequence: \\q/],
  ['\\Z', /invalid escape sequence: \\Z/],
  ['(a)\\1', /invalid escape sequence: \\1/],
  ['(?=a)', /invalid or unsupported Perl syntax/],
  ['(?!a)', /invalid or unsupported Perl syntax/],
  ['(?<=a)b', /invalid named capture/],
  ['\\p{Klingon}', /invalid character class range: \\p\{Klingon\}/],
  ['[[:foo:]]', /invalid character class range: \[:foo:\]/],
  ['(?P<n>a)(?P<n>b)', /duplicate capture group name: n/],
];

describe('invalid RE2 syntax', () => {
  it.each(INVALID)('refuses %j', (pattern, reason) => {
    const attempt = (): unknown => compileRegex(pattern);

    expect(attempt).toThrow(RegexSyntaxError);
    expect(attempt).toThrow(reason);
  });

  it.each(INVALID)('names the pattern %j in a rules:if error', (pattern, reason) => {
    const attempt = (): unknown => parseExpression(`$X =~ /${pattern}/`);

    expect(attempt).toThrow(ExpressionError);
    expect(attempt).toThrow(`invalid regular expression /${pattern}/: `);
    expect(attempt).toThrow(reason);
  });

  it('refuses unknown flags and overlong patterns', () => {
    expect(() => compileRegex('a', 'g')).toThrow('unknown flags: g');
    expect(() => compileRegex('a'.repeat(20_000))).toThrow(/pattern too large/);
  });
});
