import { describe, expect, it } from 'vitest';

import { canPushLocally, localRepositoryFor } from './local-push.js';

describe('localRepositoryFor', () => {
  const map = localRepositoryFor('http://127.0.0.1:4000', '/data/repositories');

  it("maps the embedded coordinator's repository URLs to their directories, credentials or not", () => {
    expect(map('http://gitlab-ci-token:glcbt-x@127.0.0.1:4000/root/app.git')).toBe(
      '/data/repositories/root/app.git',
    );
    expect(map('http://127.0.0.1:4000/group/sub/app.git')).toBe('/data/repositories/group/sub/app.git');
  });

  it('leaves other hosts, ports, paths outside the root and non-repository URLs alone', () => {
    expect(map('http://127.0.0.1:4001/root/app.git')).toBeUndefined();
    expect(map('https://gitlab.example/root/app.git')).toBeUndefined();
    expect(map('http://127.0.0.1:4000/root/%2e%2e/x.git')).toBeUndefined();
    expect(map('http://127.0.0.1:4000/root/app')).toBeUndefined();
    expect(map('not a url')).toBeUndefined();
  });
});

describe('canPushLocally', () => {
  const snapshot = { sha: 'a'.repeat(40), branch: 'main', dirty: false, objectsDir: '/r/.git/objects' };
  it('pushes in place unless the repository is shallow or its objects directory is unknown', () => {
    expect(canPushLocally({ ...snapshot, shallow: false })).toBe(true);
    expect(canPushLocally({ ...snapshot, shallow: true })).toBe(false);
    expect(canPushLocally({ ...snapshot, shallow: false, objectsDir: '' })).toBe(false);
  });
});
