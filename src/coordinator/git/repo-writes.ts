/**
 * Commits made without a work tree: the parent's tree is read into a temporary index
 * (GIT_INDEX_FILE), each action becomes blobs (`hash-object -w`) and index lines
 * (`update-index --index-info`), then `write-tree`, `commit-tree` and an `update-ref` that names
 * the branch's expected old value, all under the repository's push lock, so a concurrent push or
 * API write can never be overwritten silently.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FlotillaError } from '../../shared/errors.js';
import type { GitHostContext } from './context.js';
import type { RefUpdate } from './git-host.js';
import { lastCommitFor } from './repo-commits.js';
import { treePath } from './repo-paths.js';
import { runGit } from './run-git.js';

export type CommitAction =
  | {
      action: 'create' | 'update';
      filePath: string;
      content: Buffer;
      executeFilemode?: boolean;
      lastCommitId?: string;
    }
  | { action: 'delete'; filePath: string; lastCommitId?: string }
  | { action: 'move'; filePath: string; previousPath: string; content?: Buffer; lastCommitId?: string }
  | { action: 'chmod'; filePath: string; executeFilemode: boolean };

export interface Identity {
  name: string;
  email: string;
}

export interface CommitInput {
  branch: string;
  /** The commit the new one builds on; null makes a root commit (an empty repository). */
  parent: string | null;
  /** The branch's value the caller saw: null when the branch must not exist yet. */
  expectedOld: string | null;
  actions: CommitAction[];
  message: string;
  author: Identity;
  committer: Identity;
  date: Date;
}

interface Entry {
  mode: string;
  oid: string;
}

/** Index state of the commit being built: path → entry, plus the lines to feed update-index. */
class TreeEdit {
  readonly lines: string[] = [];
  constructor(readonly files: Map<string, Entry>) {}

  has(path: string): boolean {
    return this.files.has(path);
  }

  isDirectory(path: string): boolean {
    const prefix = `${path}/`;
    for (const p of this.files.keys()) if (p.startsWith(prefix)) return true;
    return false;
  }

  /** A file on the way to `path` (`a` when writing `a/b`), if any. */
  fileOnPath(path: string): string | null {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (this.files.has(p)) return p;
    }
    return null;
  }

  set(path: string, entry: Entry): void {
    this.files.set(path, entry);
    this.lines.push(`${entry.mode} ${entry.oid}\t${path}\0`);
  }

  remove(path: string, zero: string): void {
    this.files.delete(path);
    this.lines.push(`0 ${zero}\t${path}\0`);
  }
}

function fail(message: string, details: Record<string, unknown> = {}): FlotillaError {
  return new FlotillaError('FLO_ERR_BAD_REQUEST', message, { details });
}

/** Checks and normalises a path given to a commit action; throws naming the action. */
export function actionPath(path: string, field = 'file_path'): string {
  const clean = treePath(path);
  if (clean === null || clean.split('/').some((s) => s === '.git')) {
    throw fail(`${field} "${path}" is not a valid file path inside the repository`, { field });
  }
  return clean;
}

async function readFiles(
  ctx: GitHostContext,
  dir: string,
  parent: string | null,
): Promise<Map<string, Entry>> {
  const files = new Map<string, Entry>();
  if (parent === null) return files;
  const { stdout } = await runGit(ctx.git, dir, ['ls-tree', '-r', '-z', '--full-tree', parent], {
    maxBuffer: 256 * 1024 * 1024,
  });
  for (const record of stdout.toString('utf8').split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const [mode = '', , oid = ''] = record.slice(0, tab).split(' ');
    files.set(record.slice(tab + 1), { mode, oid });
  }
  return files;
}

async function writeBlob(ctx: GitHostContext, dir: string, content: Buffer): Promise<string> {
  const { stdout } = await runGit(ctx.git, dir, ['hash-object', '-w', '--stdin'], { input: content });
  return stdout.toString('utf8').trim();
}

async function checkUnchanged(
  ctx: GitHostContext,
  dir: string,
  parent: string | null,
  path: string,
  lastCommitId: string | undefined,
): Promise<void> {
  if (lastCommitId === undefined || parent === null) return;
  const last = await lastCommitFor(ctx, dir, parent, path);
  if (last !== lastCommitId) {
    throw fail(`The file has changed since you started editing it: ${path}`, { path, lastCommitId });
  }
}

function fileMode(current: Entry | undefined, execute: boolean | undefined): string {
  if (execute !== undefined) return execute ? '100755' : '100644';
  return current?.mode === '100755' ? '100755' : '100644';
}

async function applyAction(
  ctx: GitHostContext,
  dir: string,
  input: CommitInput,
  edit: TreeEdit,
  action: CommitAction,
  zero: string,
): Promise<void> {
  const path = actionPath(action.filePath);
  const exists = edit.has(path);
  switch (action.action) {
    case 'create': {
      if (exists) throw fail('A file with this name already exists', { path });
      if (edit.isDirectory(path)) throw fail('A directory with this name already exists', { path });
      if (edit.fileOnPath(path) !== null) throw fail('A file with this name already exists', { path });
      edit.set(path, {
        mode: fileMode(undefined, action.executeFilemode),
        oid: await writeBlob(ctx, dir, action.content),
      });
      return;
    }
    case 'update': {
      if (!exists) throw fail("A file with this name doesn't exist", { path });
      await checkUnchanged(ctx, dir, input.parent, path, action.lastCommitId);
      const mode = fileMode(edit.files.get(path), action.executeFilemode);
      edit.set(path, { mode, oid: await writeBlob(ctx, dir, action.content) });
      return;
    }
    case 'delete': {
      if (!exists) throw fail("A file with this name doesn't exist", { path });
      await checkUnchanged(ctx, dir, input.parent, path, action.lastCommitId);
      edit.remove(path, zero);
      return;
    }
    case 'chmod': {
      const current = edit.files.get(path);
      if (!current) throw fail("A file with this name doesn't exist", { path });
      edit.set(path, { mode: fileMode(current, action.executeFilemode), oid: current.oid });
      return;
    }
    case 'move':
      return applyMove(ctx, dir, input, edit, action, path, zero);
  }
}

async function applyMove(
  ctx: GitHostContext,
  dir: string,
  input: CommitInput,
  edit: TreeEdit,
  action: Extract<CommitAction, { action: 'move' }>,
  path: string,
  zero: string,
): Promise<void> {
  const from = actionPath(action.previousPath, 'previous_path');
  const current = edit.files.get(from);
  if (!current) throw fail("A file with this name doesn't exist", { path: from });
  if (from !== path && (edit.has(path) || edit.isDirectory(path))) {
    throw fail('A file with this name already exists', { path });
  }
  await checkUnchanged(ctx, dir, input.parent, from, action.lastCommitId);
  const oid = action.content === undefined ? current.oid : await writeBlob(ctx, dir, action.content);
  edit.remove(from, zero);
  edit.set(path, { mode: current.mode, oid });
}

function identityEnv(input: CommitInput): Record<string, string> {
  const date = `${Math.floor(input.date.getTime() / 1000)} +0000`;
  return {
    GIT_AUTHOR_NAME: input.author.name,
    GIT_AUTHOR_EMAIL: input.author.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: input.committer.name,
    GIT_COMMITTER_EMAIL: input.committer.email,
    GIT_COMMITTER_DATE: date,
  };
}

/** The all-zeros id of this repository's object format. */
export async function zeroId(ctx: GitHostContext, dir: string): Promise<string> {
  const { stdout } = await runGit(ctx.git, dir, ['rev-parse', '--show-object-format']);
  return '0'.repeat(stdout.toString('utf8').trim() === 'sha256' ? 64 : 40);
}

/** The branch's current commit, or null. */
export async function branchHead(ctx: GitHostContext, dir: string, branch: string): Promise<string | null> {
  const { stdout, exitCode } = await runGit(
    ctx.git,
    dir,
    ['rev-parse', '--verify', '-q', `refs/heads/${branch}`],
    {
      okExitCodes: [1],
    },
  );
  return exitCode === 0 ? stdout.toString('utf8').trim() : null;
}

/**
 * Builds the commit and moves the branch to it. The caller holds the repository lock.
 * Throws FLO_ERR_BAD_REQUEST (GitLab's 400) for an action that does not apply or when the branch
 * moved since `expectedOld` was read.
 */
export async function commitActions(
  ctx: GitHostContext,
  dir: string,
  input: CommitInput,
): Promise<RefUpdate> {
  const zero = await zeroId(ctx, dir);
  const ref = `refs/heads/${input.branch}`;
  if ((await branchHead(ctx, dir, input.branch)) !== input.expectedOld) {
    throw fail(`Branch ${input.branch} was changed while the commit was being made; try again`, {
      branch: input.branch,
    });
  }
  const edit = new TreeEdit(await readFiles(ctx, dir, input.parent));
  for (const action of input.actions) await applyAction(ctx, dir, input, edit, action, zero);
  const tmp = await mkdtemp(join(tmpdir(), 'flotilla-index-'));
  try {
    const env = { GIT_INDEX_FILE: join(tmp, 'index') };
    await runGit(
      ctx.git,
      dir,
      input.parent === null ? ['read-tree', '--empty'] : ['read-tree', input.parent],
      { env },
    );
    if (edit.lines.length > 0) {
      await runGit(ctx.git, dir, ['update-index', '-z', '--index-info'], { env, input: edit.lines.join('') });
    }
    const tree = (await runGit(ctx.git, dir, ['write-tree'], { env })).stdout.toString('utf8').trim();
    const parents = input.parent === null ? [] : ['-p', input.parent];
    const commit = await runGit(ctx.git, dir, ['commit-tree', tree, ...parents], {
      env: identityEnv(input),
      input: input.message,
    });
    const sha = commit.stdout.toString('utf8').trim();
    await compareAndSet(ctx, dir, ref, sha, input.expectedOld ?? zero);
    return { ref, before: input.expectedOld ?? zero, after: sha };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** `update-ref ref new old`; a ref that moved meanwhile gives GitLab's 400. */
export async function compareAndSet(
  ctx: GitHostContext,
  dir: string,
  ref: string,
  value: string,
  expected: string,
): Promise<void> {
  const args = /^0+$/.test(value)
    ? ['update-ref', '-d', ref, expected]
    : ['update-ref', ref, value, expected];
  const { exitCode } = await runGit(ctx.git, dir, args, { okExitCodes: [1, 128] });
  if (exitCode !== 0) throw fail(`${ref} was changed by someone else meanwhile; try again`, { ref });
}
