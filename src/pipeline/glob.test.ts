import { describe, expect, it } from 'vitest';

import { anyPathMatches, compileGlob } from './glob.js';

/**
 * `rules:changes` / `rules:exists` globs: Ruby's `File.fnmatch?` with FNM_PATHNAME |
 * FNM_DOTMATCH | FNM_EXTGLOB, as GitLab calls it; cases from Ruby's documentation of fnmatch.
 */
const FNMATCH: [glob: string, path: string, matches: boolean][] = [
  ['cat', 'cat', true],
  ['cat', 'category', false],
  ['cat', 'CAT', false],
  ['c{at,ub}s', 'cats', true],
  ['c{at,ub}s', 'cubs', true],
  ['c{at,ub}s', 'cas', false],
  ['c?t', 'cat', true],
  ['c??t', 'cat', false],
  ['c*', 'cats', true],
  ['c*t', 'c/a/b/t', false],
  ['ca[a-z]', 'cat', true],
  ['ca[^t]', 'cat', false],
  ['ca[!t]', 'cab', true],
  ['?', '/', false],
  ['*', '/', false],
  ['[!a]', '/', false],
  ['\\?', '?', true],
  ['\\?', 'a', false],
  ['\\a', 'a', true],
  ['*', '.profile', true],
  ['.*', '.profile', true],
  ['*', 'dave/.profile', false],
  ['**/*.rb', 'main.rb', true],
  ['**/*.rb', 'lib/song.rb', true],
  ['**.rb', 'main.rb', true],
  ['**.rb', 'lib/song.rb', false],
  ['**/foo', 'a/b/c/foo', true],
  ['**/foo', 'a/.b/c/foo', true],
  ['**foo', 'a/b/c/foo', false],
  // GitLab-style paths.
  ['docs/**/*', 'docs/a/b.md', true],
  ['docs/**/*', 'docs/x.md', true],
  ['docs/**', 'docs/x.md', true],
  ['docs/**', 'docs/a/b.md', false],
  ['**', 'README.md', true],
  ['**', 'a/b', false],
  ['src/**/*.{ts,js}', 'src/a/b/c.js', true],
  ['src/*.ts', 'src/a/b.ts', false],
  ['Dockerfile', 'Dockerfile', true],
  ['docs/café *.md', 'docs/café notes.md', true],
  ['/Dockerfile', 'Dockerfile', true],
  ['./Dockerfile', 'Dockerfile', true],
];

describe('rules:changes and rules:exists globs', () => {
  it.each(FNMATCH)('%s on %s → %s', (glob, path, expected) => {
    expect(anyPathMatches([glob], [path])).toBe(expected);
  });
});

describe('include:local wildcards', () => {
  it.each([
    ['configs/*.yml', 'configs/a.yml', true],
    ['configs/*.yml', 'configs/sub/a.yml', false],
    ['configs/**.yml', 'configs/sub/a.yml', true],
    ['configs/**/*.yml', 'configs/a.yml', true],
  ])('%s on %s → %s', (glob, path, expected) => {
    expect(compileGlob(glob).test(path)).toBe(expected);
  });
});
