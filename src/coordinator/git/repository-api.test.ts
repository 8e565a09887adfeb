import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { createGitHost } from './create-git-host.js';
import type { GitHost } from './git-host.js';
import { git, makeTempDir, removeDir } from '../../../test/kits/coordinator/git/git-test-kit.js';
import type { CommitInput } from './repo-writes.js';

let tmp: string;
let host: GitHost;
const REPO = 'team/writer';
const ZERO = '0'.repeat(40);
const who = { name: 'Ann', email: 'ann@example.test' };
const date = new Date('2024-06-01T12:00:00Z');

function input(parts: Partial<CommitInput>): CommitInput {
  return {
    branch: 'main',
    parent: null,
    expectedOld: null,
    actions: [],
    message: 'm',
    author: who,
    committer: who,
    date,
    ...parts,
  };
}

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-git-writes');
  host = createGitHost({ root: join(tmp, 'repos'), logger: silentLogger() });
  await host.createRepository(REPO, 'main');
});

afterAll(() => removeDir(tmp));

describe('repository API writes (bare repository, no work tree)', () => {
  let root = '';

  it('makes a root commit in an empty repository and reports it as a ref update', async () => {
    const update = await host.commit(
      REPO,
      input({
        message: 'first',
        actions: [
          { action: 'create', filePath: 'a/b.txt', content: Buffer.from('b\n') },
          {
            action: 'create',
            filePath: 'run.sh',
            content: Buffer.from('#!/bin/sh\n'),
            executeFilemode: true,
          },
        ],
      }),
    );
    root = update.after;
    expect(update).toEqual({ ref: 'refs/heads/main', before: ZERO, after: root });
    const commit = await host.getCommit(REPO, root);
    expect(commit).toMatchObject({
      message: 'first',
      parentIds: [],
      authorName: 'Ann',
      authoredDate: '2024-06-01T12:00:00+00:00',
    });
    const tree = await host.listTree(REPO, root, '', true);
    expect(tree?.map((e) => `${e.mode} ${e.type} ${e.path}`)).toEqual([
      '040000 tree a',
      '100644 blob a/b.txt',
      '100755 blob run.sh',
    ]);
    const blob = await host.blobAt(REPO, root, 'a/b.txt');
    expect(blob?.content.toString()).toBe('b\n');
  });

  it('applies update, move, chmod and delete on top of the parent', async () => {
    const update = await host.commit(
      REPO,
      input({
        parent: root,
        expectedOld: root,
        actions: [
          { action: 'update', filePath: 'a/b.txt', content: Buffer.from('b2\n') },
          { action: 'move', filePath: 'c.txt', previousPath: 'a/b.txt' },
          { action: 'chmod', filePath: 'c.txt', executeFilemode: true },
          { action: 'delete', filePath: 'run.sh' },
        ],
      }),
    );
    expect(update.before).toBe(root);
    const tree = await host.listTree(REPO, update.after, '', true);
    expect(tree?.map((e) => `${e.mode} ${e.path}`)).toEqual(['100755 c.txt']);
    expect((await host.blobAt(REPO, update.after, 'c.txt'))?.content.toString()).toBe('b2\n');
    const diffs = await host.diff(REPO, root, update.after);
    expect(diffs.map((d) => [d.oldPath, d.newPath, d.deletedFile, d.renamedFile])).toContainEqual([
      'run.sh',
      'run.sh',
      true,
      false,
    ]);
    expect(await host.diffStats(REPO, root, update.after)).toMatchObject({ total: expect.any(Number) });
    root = update.after;
  });

  it('refuses a commit when the branch moved since it was read (compare-and-set)', async () => {
    const first = await host.getCommit(REPO, root);
    const parent = first?.parentIds[0] ?? '';
    await expect(
      host.commit(
        REPO,
        input({
          parent,
          expectedOld: parent,
          actions: [{ action: 'create', filePath: 'x', content: Buffer.from('') }],
        }),
      ),
    ).rejects.toMatchObject({ code: 'FLO_ERR_BAD_REQUEST' });
    expect(await host.resolveRef(REPO, 'main')).toBe(root);
  });

  it('refuses actions that do not apply and paths outside the tree, leaving the branch alone', async () => {
    const bad = [
      { action: 'create', filePath: 'c.txt', content: Buffer.from('') },
      { action: 'create', filePath: 'c.txt/under', content: Buffer.from('') },
      { action: 'update', filePath: 'none', content: Buffer.from('') },
      { action: 'create', filePath: '../escape', content: Buffer.from('') },
      { action: 'create', filePath: '.git/config', content: Buffer.from('') },
    ] as const;
    for (const action of bad) {
      await expect(
        host.commit(REPO, input({ parent: root, expectedOld: root, actions: [action] })),
      ).rejects.toMatchObject({
        code: 'FLO_ERR_BAD_REQUEST',
      });
    }
    expect(await host.resolveRef(REPO, 'main')).toBe(root);
  });

  it('creates and deletes branches and annotated tags with compare-and-set', async () => {
    const branch = await host.createBranch(REPO, 'topic', root);
    expect(branch).toEqual({ ref: 'refs/heads/topic', before: ZERO, after: root });
    await expect(host.createBranch(REPO, 'topic', root)).rejects.toMatchObject({
      code: 'FLO_ERR_BAD_REQUEST',
    });
    await expect(host.deleteBranch(REPO, 'topic', ZERO.replace(/0$/, '1'))).rejects.toMatchObject({
      code: 'FLO_ERR_BAD_REQUEST',
    });
    expect((await host.deleteBranch(REPO, 'topic', root)).after).toBe(ZERO);
    const tag = await host.createTag(REPO, { name: 'v1', sha: root, message: 'release', tagger: who, date });
    expect(tag.after).not.toBe(root);
    const [listed] = await host.listTags(REPO);
    expect(listed).toMatchObject({
      name: 'v1',
      sha: root,
      target: tag.after,
      annotated: true,
      message: 'release',
    });
    expect(listed?.createdAt).toBe('2024-06-01T12:00:00+00:00');
    const work = join(tmp, 'clone');
    await git(tmp, tmp, ['clone', '-q', join(tmp, 'repos', `${REPO}.git`), work]);
    expect(await git(tmp, work, ['cat-file', '-t', 'v1'])).toBe('tag');
    expect(await git(tmp, work, ['fsck', '--no-progress'])).toBe('');
  });
});
