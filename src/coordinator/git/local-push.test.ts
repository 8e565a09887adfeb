import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { createGitHost } from './create-git-host.js';
import type { GitHost } from './git-host.js';
import { git, makeTempDir, removeDir } from '../../../test/kits/coordinator/git/git-test-kit.js';

let tmp: string;
let host: GitHost;
let work: string;
const shas: string[] = [];

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-git-local-push');
  host = createGitHost({ root: join(tmp, 'repos'), logger: silentLogger() });
  work = join(tmp, 'work');
  await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
  for (const n of [1, 2]) {
    await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', `c${n}`]);
    shas.push(await git(tmp, work, ['rev-parse', 'HEAD']));
  }
});

afterAll(() => removeDir(tmp));

const objects = (): string => join(work, '.git', 'objects');

describe('receiveLocal (a push from a repository on this host)', () => {
  it('creates and then force-moves a branch, answering the updates a push would report', async () => {
    await host.createRepository('group/app', 'main');
    const [first = '', second = ''] = shas;
    const created = await host.receiveLocal('group/app', {
      objectsDir: objects(),
      ref: 'refs/heads/main',
      sha: second,
    });
    expect(created).toEqual({ ref: 'refs/heads/main', before: '0'.repeat(40), after: second });
    const moved = await host.receiveLocal('group/app', {
      objectsDir: objects(),
      ref: 'refs/heads/main',
      sha: first,
    });
    expect(moved).toEqual({ ref: 'refs/heads/main', before: second, after: first });
    expect(await host.listBranches('group/app')).toEqual([{ name: 'main', sha: first }]);
    const dir = join(tmp, 'repos', 'group/app.git');
    expect(await git(tmp, tmp, ['--git-dir', dir, 'cat-file', '-t', second])).toBe('commit');
    expect(await git(tmp, tmp, ['--git-dir', dir, 'fsck', '--no-progress', '--no-dangling'])).toBe('');
    // A clone over git's own transport gets every object, as from a pushed repository.
    await git(tmp, tmp, ['clone', '-q', '--no-local', dir, join(tmp, 'clone')]);
    expect(await git(tmp, join(tmp, 'clone'), ['rev-parse', 'HEAD'])).toBe(first);
  });

  it('reads a commit of a second source repository pushed after the first (new alternates)', async () => {
    await host.createRepository('group/two', 'main');
    const first = await host.receiveLocal('group/two', {
      objectsDir: objects(),
      ref: 'refs/heads/main',
      sha: shas[1] ?? '',
    });
    expect(first.after).toBe(shas[1]);
    const other = join(tmp, 'other');
    await git(tmp, tmp, ['init', '-q', '-b', 'main', other]);
    await git(tmp, other, ['commit', '-q', '--allow-empty', '-m', 'elsewhere']);
    const sha = await git(tmp, other, ['rev-parse', 'HEAD']);
    const moved = await host.receiveLocal('group/two', {
      objectsDir: join(other, '.git', 'objects'),
      ref: 'refs/heads/main',
      sha,
    });
    expect(moved).toEqual({ ref: 'refs/heads/main', before: shas[1], after: sha });
    expect(await host.listBranches('group/two')).toEqual([{ name: 'main', sha }]);
  });

  it('refuses a commit it cannot read, pipeline refs, relative paths and bad repository paths', async () => {
    await host.createRepository('group/other', 'main');
    const push = (over: Partial<{ objectsDir: string; ref: string; sha: string }>, path = 'group/other') =>
      host.receiveLocal(path, { objectsDir: objects(), ref: 'refs/heads/main', sha: shas[0] ?? '', ...over });
    await expect(push({ sha: 'f'.repeat(40) })).rejects.toMatchObject({ code: 'FLO_ERR_GIT' });
    await expect(push({ ref: 'refs/pipelines/1' })).rejects.toMatchObject({ code: 'FLO_ERR_BAD_REQUEST' });
    await expect(push({ objectsDir: 'work/.git/objects' })).rejects.toMatchObject({
      code: 'FLO_ERR_BAD_REQUEST',
    });
    await expect(push({}, '../escape')).rejects.toMatchObject({ code: 'FLO_ERR_BAD_REQUEST' });
    await expect(push({}, 'group/missing')).rejects.toMatchObject({ code: 'FLO_ERR_NOT_FOUND' });
    expect(await host.listBranches('group/other')).toEqual([]);
  });
});
