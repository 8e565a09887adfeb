import { describe, expect, it } from 'vitest';

import { bool, parseBoolean, setPageLinks } from './http-helpers.js';

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

describe('page links', () => {
  function headers(page: number, pages: { hasNext: boolean; lastPage?: number }): Record<string, string> {
    const set: Record<string, string> = {};
    const reply = { header: (name: string, value: string) => void (set[name] = value) };
    const request = { url: '/api/v4/projects/1/pipelines?ref=main&page=9' };
    setPageLinks(request as never, reply as never, 'http://gl.test', { page, perPage: 5 }, pages);
    return set;
  }
  const at = (page: number, rel: string) =>
    `<http://gl.test/api/v4/projects/1/pipelines?ref=main&page=${page}&per_page=5>; rel="${rel}"`;

  it('links prev, next, first and last of a page in the middle of a known number of pages', () => {
    expect(headers(2, { hasNext: true, lastPage: 3 })).toEqual({
      'X-Next-Page': '3',
      'X-Prev-Page': '1',
      Link: [at(1, 'prev'), at(3, 'next'), at(1, 'first'), at(3, 'last')].join(', '),
    });
  });

  it('has no last link when the number of pages is not known, and no next on the last page', () => {
    expect(headers(1, { hasNext: false })).toEqual({
      'X-Next-Page': '',
      'X-Prev-Page': '',
      Link: at(1, 'first'),
    });
  });
});
