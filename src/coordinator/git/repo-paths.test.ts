import { describe, expect, it } from 'vitest';
import { isFlotillaError } from '../../shared/errors.js';
import { execFileSync } from 'node:child_process';

import {
  isPlainRefName,
  isValidBranchName,
  repositoryDir,
  treePath,
  validateFullPath,
  validatePathInfo,
} from './repo-paths.js';

describe('validateFullPath', () => {
  it.each(['group/project', 'a/b/c', 'My_Group/my-project.v2', 'g1/p'])('accepts %s', (path) => {
    expect(validateFullPath(path)).toBe(path);
  });

  it.each([
    'project',
    '',
    '../etc',
    'group/../other',
    'group/..',
    'group/.hidden',
    'group/-option',
    '/group/project',
    'group/project/',
    'group//project',
    'group/project.git',
    'group/pro ject',
    'group/pro%2Fject',
    'group/proj\0ect',
    'group/a..b',
  ])('rejects %j with FLO_ERR_BAD_REQUEST', (path) => {
    expect(() => validateFullPath(path)).toThrowError(
      expect.objectContaining({ code: 'FLO_ERR_BAD_REQUEST' }),
    );
  });

  it('keeps repositories under the root', () => {
    expect(repositoryDir('/srv/repos', 'g/p')).toBe('/srv/repos/g/p.git');
    try {
      repositoryDir('/srv/repos', '../../p');
      expect.unreachable();
    } catch (err) {
      expect(isFlotillaError(err, 'FLO_ERR_BAD_REQUEST')).toBe(true);
    }
  });
});

describe('validatePathInfo', () => {
  it.each(['/info/refs', '/git-upload-pack', '/git-receive-pack', '/HEAD', '/objects/info/packs'])(
    'accepts %s',
    (p) => expect(validatePathInfo(p)).toBe(p),
  );

  it.each(['', 'info/refs', '/../config', '/objects/../../x', '/info/refs?x', '/a b', '/'])(
    'rejects %j',
    (p) => {
      expect(() => validatePathInfo(p)).toThrowError(
        expect.objectContaining({ code: 'FLO_ERR_BAD_REQUEST' }),
      );
    },
  );
});

describe('isPlainRefName', () => {
  it.each(['main', 'feature/x', 'v1.0.0', 'refs/heads/main', 'release-1_2', 'a+b@c'])('accepts %s', (n) => {
    expect(isPlainRefName(n)).toBe(true);
  });

  it.each(['', 'main~1', 'main^', 'HEAD@{1}', 'a..b', '-x', '/x', 'x/', 'a b', 'a:b', 'x.lock', '@', 'a//b'])(
    'rejects %j',
    (n) => expect(isPlainRefName(n)).toBe(false),
  );
});

describe('treePath', () => {
  it('normalises and refuses escapes', () => {
    expect(treePath('./a//b/c.txt')).toBe('a/b/c.txt');
    expect(treePath('/.gitlab-ci.yml')).toBe('.gitlab-ci.yml');
    expect(treePath('a/../b')).toBeNull();
    expect(treePath('')).toBeNull();
    expect(treePath('a\nb')).toBeNull();
  });
});

describe('isValidBranchName', () => {
  const gitAccepts = (name: string): boolean => {
    try {
      execFileSync('git', ['check-ref-format', `refs/heads/${name}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const names = [
    ...['main', 'feature/x', 'v1.0.0', 'release-1_2', 'a+b@c', 'a/b/c', 'x.y/z', 'lock', 'a.locked'],
    ...['.x', 'a/.b', 'a.lock/b', 'a/b.lock', 'x.lock', 'a.', 'a/.', '..', 'a..b', '@', 'a/@', 'a@{b'],
    ...['-x', '/x', 'x/', 'a//b', 'a b', 'a:b', 'a~1', 'a^', 'a?', 'a*', 'a[b', 'a\\b', '', 'ä'],
  ];

  it.each(names)('agrees with git check-ref-format on top of the plain check: %j', (name) => {
    expect(isValidBranchName(name)).toBe(isPlainRefName(name) && gitAccepts(name));
  });
});
