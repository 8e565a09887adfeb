import { describe, expect, it } from 'vitest';

import { mapRefs, parseRefspec } from './borrowed-sources.js';

describe('parseRefspec', () => {
  it('takes forced and plain src:dst pairs, with a * on both sides or neither', () => {
    expect(parseRefspec('+refs/pipelines/9:refs/pipelines/9')).toEqual({
      src: 'refs/pipelines/9',
      dst: 'refs/pipelines/9',
    });
    expect(parseRefspec('refs/heads/*:refs/remotes/origin/*')).toEqual({
      src: 'refs/heads/*',
      dst: 'refs/remotes/origin/*',
    });
  });

  it('refuses what a plain mapping cannot answer', () => {
    for (const spec of [
      'refs/heads/main',
      '^refs/heads/x:refs/x',
      'refs/heads/*:refs/x',
      'a*b*:c*d*',
      ':refs/x',
    ])
      expect(parseRefspec(spec), spec).toBeNull();
  });
});

describe('mapRefs', () => {
  const refs = new Map([
    ['refs/heads/main', 'a'.repeat(40)],
    ['refs/heads/feature/x', 'b'.repeat(40)],
    ['refs/pipelines/9', 'c'.repeat(40)],
  ]);
  const specs = (...s: string[]) => s.map((x) => parseRefspec(x)!);

  it('maps plain and wildcard sources to their destinations', () => {
    expect(
      mapRefs(specs('+refs/pipelines/9:refs/pipelines/9', '+refs/heads/*:refs/remotes/origin/*'), refs),
    ).toEqual(
      new Map([
        ['refs/pipelines/9', 'c'.repeat(40)],
        ['refs/remotes/origin/main', 'a'.repeat(40)],
        ['refs/remotes/origin/feature/x', 'b'.repeat(40)],
      ]),
    );
  });

  it('answers null when a plain source is missing (the fetch would fail)', () => {
    expect(mapRefs(specs('+refs/heads/gone:refs/remotes/origin/gone'), refs)).toBeNull();
  });
});
