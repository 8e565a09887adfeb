import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, makeTempDir, removeDir } from '../../../test/kits/coordinator/git/git-test-kit.js';
import { createBatchPool } from './batch-pool.js';
import { CatFileBatch, parseHeader } from './cat-file-batch.js';
import { parseCommit } from './commit-object.js';

const RUNNER = { gitBinary: 'git', timeoutMs: 10_000 };
let tmp: string;
let work: string;
let bare: string;

async function commit(message: string, file: string, content: string): Promise<string> {
  await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', message]);
  await import('node:fs/promises').then((fs) => fs.writeFile(join(work, file), content));
  await git(tmp, work, ['add', file]);
  await git(tmp, work, ['commit', '-q', '--amend', '-m', message]);
  await git(tmp, work, ['push', '-q', bare, 'HEAD:refs/heads/main']);
  return git(tmp, work, ['rev-parse', 'HEAD']);
}

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-cat-file');
  work = join(tmp, 'work');
  bare = join(tmp, 'repo.git');
  await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
  await git(tmp, tmp, ['init', '-q', '--bare', bare]);
});

afterAll(() => removeDir(tmp));

describe('CatFileBatch', () => {
  it('answers infos and contents in order, and sees refs and objects pushed after it started', async () => {
    const first = await commit('one', 'a.txt', 'first\n');
    const batch = new CatFileBatch(RUNNER, bare, 60_000, () => undefined);
    const [head, file, missing, spaced] = await Promise.all([
      batch.info('refs/heads/main'),
      batch.contents(`${first}:a.txt`),
      batch.info('refs/heads/nope'),
      batch.info(`${first}:no such file`),
    ]);
    expect(head).toEqual({ oid: first, type: 'commit', size: expect.any(Number) as number });
    expect(file?.content.toString()).toBe('first\n');
    expect(file?.info.type).toBe('blob');
    expect([missing, spaced]).toEqual([null, null]);

    const second = await commit('two', 'a.txt', 'x'.repeat(200_000));
    await git(tmp, bare, ['--git-dir', bare, 'repack', '-adq']);
    expect((await batch.info('refs/heads/main'))?.oid).toBe(second);
    expect((await batch.contents(`${second}:a.txt`))?.content.length).toBe(200_000);
    expect(await batch.info('a\nb')).toBeNull();
    batch.close();
  });

  it('rejects what is asked after git exited, with FLO_ERR_GIT', async () => {
    let batch: CatFileBatch | undefined;
    await new Promise<void>((resolve) => {
      batch = new CatFileBatch(RUNNER, join(tmp, 'not-a-repo'), 60_000, resolve);
    });
    expect(batch?.alive).toBe(false);
    await expect(batch?.info('HEAD')).rejects.toMatchObject({ code: 'FLO_ERR_GIT' });
  });
});

describe('createBatchPool', () => {
  it('keeps one process per repository and starts a new one after it ended', async () => {
    const pool = createBatchPool(RUNNER, { maxProcesses: 1 });
    const a = pool.forRepository(bare);
    expect(pool.forRepository(bare)).toBe(a);
    pool.forget(bare);
    const b = pool.forRepository(bare);
    expect(b).not.toBe(a);
    expect((await b.info('refs/heads/main'))?.type).toBe('commit');
    pool.close();
  });
});

describe('parseHeader', () => {
  it('reads object lines and refuses missing or ambiguous answers', () => {
    const oid = 'a'.repeat(40);
    expect(parseHeader(`${oid} blob 12`)).toEqual({ oid, type: 'blob', size: 12 });
    expect(parseHeader('HEAD:x missing')).toBeNull();
    expect(parseHeader('abc ambiguous')).toBeNull();
    expect(parseHeader('x:a b missing')).toBeNull();
  });
});

describe('parseCommit', () => {
  const oid = 'b'.repeat(40);
  const headers = [
    'tree ' + 'c'.repeat(40),
    'author Ada Lovelace <ada@example.com> 1700000000 +0100',
    'committer Bot <bot@example.com> 1700000100 -0500',
    'gpgsig -----BEGIN PGP SIGNATURE-----',
    ' author Mallory <m@example.com> 1 +0000',
    ' -----END PGP SIGNATURE-----',
  ];

  it('reads author, committer date and message as git log does', () => {
    const raw = Buffer.from(`${headers.join('\n')}\n\nTitle line\n\nBody.\n\n`);
    expect(parseCommit(oid, raw)).toEqual({
      sha: oid,
      title: 'Title line',
      message: 'Title line\n\nBody.',
      authorName: 'Ada Lovelace',
      authorEmail: 'ada@example.com',
      committedAt: new Date(1_700_000_100_000),
    });
  });

  it('leaves a commit in another encoding to git log', () => {
    const raw = Buffer.from(`${headers.slice(0, 3).join('\n')}\nencoding ISO-8859-1\n\nCaf\xe9\n`, 'latin1');
    expect(parseCommit(oid, raw)).toBeNull();
    expect(parseCommit(oid, Buffer.from('tree x\n\nno author\n'))).toBeNull();
  });
});
