import { mkdir, readFile as readFs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { createGitHost } from './create-git-host.js';
import type { GitHost } from './git-host.js';
import { git, makeTempDir, removeDir } from '../../../test/kits/coordinator/git/git-test-kit.js';

let tmp: string;
let root: string;
let host: GitHost;

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-git-repos');
  root = join(tmp, 'repos');
  host = createGitHost({ root, logger: silentLogger() });
});

afterAll(() => removeDir(tmp));

const BAD_REQUEST = expect.objectContaining({ code: 'FLO_ERR_BAD_REQUEST' });
const NOT_FOUND = expect.objectContaining({ code: 'FLO_ERR_NOT_FOUND' });

describe('repository lifecycle', () => {
  it('creates a bare repository with HEAD on the default branch, idempotently', async () => {
    await host.createRepository('group/app', 'trunk');
    await host.createRepository('group/app', 'trunk');
    const dir = join(root, 'group/app.git');
    expect(await git(tmp, tmp, ['--git-dir', dir, 'rev-parse', '--is-bare-repository'])).toBe('true');
    expect(await git(tmp, tmp, ['--git-dir', dir, 'symbolic-ref', 'HEAD'])).toBe('refs/heads/trunk');
    expect(await git(tmp, tmp, ['--git-dir', dir, 'config', 'http.receivepack'])).toBe('true');
    expect(await host.repositoryExists('group/app')).toBe(true);
    expect(await host.listBranches('group/app')).toEqual([]);
  });

  it('moves HEAD when created again with another default branch', async () => {
    await host.createRepository('group/moving', 'main');
    await host.createRepository('group/moving', 'develop');
    const dir = join(root, 'group/moving.git');
    expect(await git(tmp, tmp, ['--git-dir', dir, 'symbolic-ref', 'HEAD'])).toBe('refs/heads/develop');
  });

  it('deletes idempotently', async () => {
    await host.createRepository('group/doomed', 'main');
    await host.deleteRepository('group/doomed');
    await host.deleteRepository('group/doomed');
    expect(await host.repositoryExists('group/doomed')).toBe(false);
  });

  it('does not mistake a plain directory for a repository', async () => {
    await mkdir(join(root, 'group/plain.git'), { recursive: true });
    expect(await host.repositoryExists('group/plain')).toBe(false);
    await expect(host.listBranches('group/plain')).rejects.toEqual(NOT_FOUND);
  });

  it.each(['../escape', 'group/../../x', 'single', 'g/p.git', 'g/-x'])(
    'rejects the path %j',
    async (path) => {
      await expect(host.createRepository(path, 'main')).rejects.toEqual(BAD_REQUEST);
      await expect(host.repositoryExists(path)).rejects.toEqual(BAD_REQUEST);
      await expect(host.deleteRepository(path)).rejects.toEqual(BAD_REQUEST);
    },
  );

  it.each(['', 'bad branch', 'x..y', '-f', 'main.lock', 'a~1'])(
    'rejects the default branch %j',
    async (branch) => {
      await expect(host.createRepository('group/bad-branch', branch)).rejects.toEqual(BAD_REQUEST);
      expect(await host.repositoryExists('group/bad-branch')).toBe(false);
    },
  );
});

describe('pipeline refs', () => {
  it('creates, moves and deletes refs/pipelines/<id>', async () => {
    await host.createRepository('group/pipes', 'main');
    const dir = join(root, 'group/pipes.git');
    const work = join(tmp, 'pipes-work');
    await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
    await writeFile(join(work, 'a.txt'), 'a');
    await git(tmp, work, ['add', '.']);
    await git(tmp, work, ['commit', '-q', '-m', 'one']);
    const first = await git(tmp, work, ['rev-parse', 'HEAD']);
    await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', 'two']);
    const second = await git(tmp, work, ['rev-parse', 'HEAD']);
    await git(tmp, work, ['push', '-q', dir, 'main']);

    await host.createPipelineRef('group/pipes', 5, first);
    expect(await git(tmp, tmp, ['--git-dir', dir, 'rev-parse', 'refs/pipelines/5'])).toBe(first);
    await host.createPipelineRef('group/pipes', 5, second);
    expect(await git(tmp, tmp, ['--git-dir', dir, 'rev-parse', 'refs/pipelines/5'])).toBe(second);
    await host.deletePipelineRef('group/pipes', 5);
    await host.deletePipelineRef('group/pipes', 5);
    expect(await git(tmp, tmp, ['--git-dir', dir, 'for-each-ref', 'refs/pipelines/'])).toBe('');
    expect(await host.listBranches('group/pipes')).toEqual([{ name: 'main', sha: second }]);
  });

  it('refuses unknown commits and bad ids', async () => {
    await host.createRepository('group/pipes2', 'main');
    await expect(host.createPipelineRef('group/pipes2', 1, 'f'.repeat(40))).rejects.toEqual(NOT_FOUND);
    await expect(host.createPipelineRef('group/pipes2', 0, 'f'.repeat(40))).rejects.toEqual(BAD_REQUEST);
    await expect(host.createPipelineRef('group/pipes2', 1, 'main')).rejects.toEqual(BAD_REQUEST);
    await expect(host.createPipelineRef('group/none', 1, 'f'.repeat(40))).rejects.toEqual(NOT_FOUND);
  });
});

describe('a missing git program', () => {
  it('fails with FLO_ERR_GIT', async () => {
    const broken = createGitHost({ root, logger: silentLogger(), gitBinary: join(tmp, 'no-such-git') });
    await expect(broken.createRepository('group/never', 'main')).rejects.toEqual(
      expect.objectContaining({ code: 'FLO_ERR_GIT' }),
    );
    expect(await readFs(join(root, 'group/app.git/HEAD'), 'utf8')).toContain('refs/heads/trunk');
  });
});
