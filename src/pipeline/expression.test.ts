import { describe, expect, it } from 'vitest';

import { evaluateCondition } from './expression-eval.js';
import { ExpressionError, parseExpression } from './expression.js';
import { compileRegex, RegexSyntaxError } from './re2.js';

const vars = {
  BRANCH: 'main',
  EMPTY: '',
  TAG: 'v1.2.3',
  PATTERN: '/^v\\d+/',
  ICASE: '/MAIN/i',
  PLAIN: 'main',
  MSG: 'fix: a\nskip ci',
};

describe('rules:if expressions', () => {
  it.each([
    ['$BRANCH', true],
    ['${BRANCH}', true],
    ['$EMPTY', false],
    ['$UNDEFINED', false],
    ['$BRANCH == "main"', true],
    ["$BRANCH == 'main'", true],
    ['$BRANCH != "main"', false],
    ['"main" == $BRANCH', true],
    ['$UNDEFINED == null', true],
    ['$EMPTY == null', false],
    ['$EMPTY == ""', true],
    ['$BRANCH != null', true],
    ['null == null', true],
    ['$BRANCH == $PLAIN', true],
    ['$BRANCH =~ /^ma/', true],
    ['$BRANCH =~ /^MA/', false],
    ['$BRANCH =~ /^MA/i', true],
    ['$BRANCH !~ /^ma/', false],
    ['$UNDEFINED =~ /^$/', true],
    ['$UNDEFINED =~ /x/', false],
    ['$TAG =~ $PATTERN', true],
    ['$BRANCH =~ $ICASE', true],
    ['$BRANCH =~ $PLAIN', false],
    ['$BRANCH =~ $UNDEFINED', false],
    ['$MSG =~ /^skip ci$/', false],
    ['$MSG =~ /^skip ci$/m', true],
    ['$MSG =~ /a.skip/', false],
    ['$MSG =~ /a.skip/s', true],
    ['$BRANCH == "x" || $TAG == "v1.2.3"', true],
    ['$BRANCH == "main" && $TAG == "x"', false],
    ['$BRANCH == "x" && $TAG == "x" || $PLAIN', true],
    ['$PLAIN || $BRANCH == "x" && $TAG == "x"', true],
    ['($PLAIN || $BRANCH == "x") && $TAG == "x"', false],
    ['$BRANCH == "x" && ($TAG == "x" || $PLAIN)', false],
    ['(($BRANCH))', true],
    ['$EMPTY || $UNDEFINED', false],
    ['$TAG =~ /v\\d+\\.\\d+/', true],
    ['$TAG =~ /^v1\\/2/', false],
  ])('%s → %s', (expr, expected) => {
    expect(evaluateCondition(expr, vars)).toBe(expected);
  });

  it.each([
    [''],
    ['$BRANCH ='],
    ['$BRANCH == '],
    ['$BRANCH === "x"'],
    ['($BRANCH'],
    ['$BRANCH)'],
    ['$BRANCH "x"'],
    ['$BRANCH =~ "main"'],
    ['main'],
    ['$BRANCH =~ /(a/'],
    ['$BRANCH =~ /(a)\\1/'],
    ['$BRANCH =~ /a(?=b)/'],
    ['$BRANCH =~ /a(?<!b)/'],
    ['$BRANCH =~ /a*+/'],
    ['$BRANCH =~ /a/x'],
    ['&& $A'],
  ])('rejects %j', (expr) => {
    expect(() => parseExpression(expr)).toThrow(ExpressionError);
  });
});

describe('RE2 regular expressions', () => {
  it.each([
    ['^feature/.+$', '', 'feature/x', true],
    ['^feature/.+$', '', 'feature/', false],
    ['colou?r', '', 'the color', true],
    ['^a{2,3}$', '', 'aaa', true],
    ['^a{2,3}$', '', 'aaaa', false],
    ['^a{2}$', '', 'aa', true],
    ['^(foo|bar)+$', '', 'foobarfoo', true],
    ['^[[:alpha:]]+$', '', 'abcXYZ', true],
    ['^[[:digit:]]+$', '', '12a', false],
    ['^[^a-c]+$', '', 'xyz', true],
    ['^[^a-c]+$', '', 'xaz', false],
    ['^[a-c]+$', 'i', 'ABC', true],
    ['\\bword\\b', '', 'a word here', true],
    ['\\bword\\b', '', 'swordfish', false],
    ['\\Aabc\\z', '', 'abc', true],
    ['\\Aabc\\z', 'm', 'x\nabc', false],
    ['^abc$', 'm', 'x\nabc', true],
    ['(?i)MAIN', '', 'main', true],
    ['(?P<name>v)\\d', '', 'v1', true],
    ['\\x{41}\\x42', '', 'AB', true],
    ['\\pL+', '', 'héllo', true],
    ['^\\d+\\.\\d+$', '', '1.2', true],
    ['^\\d+\\.\\d+$', '', '1x2', false],
    ['[.]', '', 'a.b', true],
    ['a.b', '', 'a\nb', false],
    ['', '', 'anything', true],
    ['^$', '', '', true],
  ])('/%s/%s on %j → %s', (source, flags, text, expected) => {
    expect(compileRegex(source, flags).test(text)).toBe(expected);
  });

  it.each([
    ['(a)\\1'],
    ['(?=a)'],
    ['(?!a)'],
    ['(?<=a)b'],
    ['(?>a)'],
    ['a++'],
    ['*a'],
    ['a{2,1}'],
    ['a{1001}'],
    ['[b-a]'],
    ['\\q'],
    ['[a'],
    ['(a'],
  ])('rejects %j', (source) => {
    expect(() => compileRegex(source)).toThrow(RegexSyntaxError);
  });

  // A backtracking engine would not finish these (2^5000 paths); the test's timeout is the guard.
  it('matches hostile patterns without backtracking', () => {
    const input = `${'a'.repeat(5000)}!`;

    expect(compileRegex('^(a+)+$').test(input)).toBe(false);
    expect(compileRegex('^(a|a)*$').test(input)).toBe(false);
    expect(compileRegex('(x+x+)+y').test('x'.repeat(3000))).toBe(false);
  });
});
