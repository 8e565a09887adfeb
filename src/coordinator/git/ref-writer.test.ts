import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, makeTempDir, removeDir } from '../../../test/kits/coordinator/git/git-test-kit.js';
import { RefWriter } from './ref-writer.js';

const RUNNER = { gitBinary: 'git', timeoutMs: 10_000 };
let tmp: string;
let bare: string;
let sha: string;

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-ref-writer');
  const work = join(tmp, 'work');
  bare = join(tmp, 'repo.git');
  await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
  await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', 'one']);
  await git(tmp, tmp, ['clone', '-q', '--bare', work, bare]);
  sha = await git(tmp, work, ['rev-parse', 'HEAD']);
});

afterAll(() => removeDir(tmp));

const refs = (): Promise<string> =>
  git(tmp, bare, ['--git-dir', bare, 'for-each-ref', '--format=%(refname)', 'refs/pipelines/']);

describe('RefWriter', () => {
  it('writes and deletes refs, one transaction each, on one process', async () => {
    const writer = new RefWriter(RUNNER, bare, 60_000, () => undefined);
    await Promise.all([writer.update('refs/pipelines/1', sha), writer.update('refs/pipelines/2', sha)]);
    expect(await refs()).toBe('refs/pipelines/1\nrefs/pipelines/2');
    await writer.delete('refs/pipelines/1');
    await writer.delete('refs/pipelines/404');
    expect(await refs()).toBe('refs/pipelines/2');
    expect(writer.alive).toBe(true);
    writer.close();
  });

  it('fails a refused write with git’s reason and still makes the writes queued behind it', async () => {
    const writer = new RefWriter(RUNNER, bare, 60_000, () => undefined);
    const refused = writer.update('refs/pipelines/3', '0'.repeat(39) + '1');
    const next = writer.update('refs/pipelines/4', sha);
    await expect(refused).rejects.toMatchObject({
      code: 'FLO_ERR_GIT',
      message: expect.stringContaining('nonexistent object') as string,
    });
    await next;
    expect(writer.alive).toBe(false);
    expect(await refs()).toBe('refs/pipelines/2\nrefs/pipelines/4');
  });
});
