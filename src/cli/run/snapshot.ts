/**
 * Turns a working tree into a commit without touching the user's index, HEAD or branches:
 * a temporary index gets HEAD's tree plus every change `git add -A` would stage (ignored files stay
 * out), and `git commit-tree` records it on top of HEAD. Uncommitted work runs exactly as on disk.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { FlotillaError } from '../../shared/errors.js';

const exec = promisify(execFile);

export interface Snapshot {
  sha: string;
  branch: string;
  /** True when the snapshot holds changes that are not committed. */
  dirty: boolean;
}

async function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: process.env['GIT_AUTHOR_NAME'] ?? 'flotilla',
      GIT_AUTHOR_EMAIL: process.env['GIT_AUTHOR_EMAIL'] ?? 'flotilla@localhost',
      GIT_COMMITTER_NAME: process.env['GIT_COMMITTER_NAME'] ?? 'flotilla',
      GIT_COMMITTER_EMAIL: process.env['GIT_COMMITTER_EMAIL'] ?? 'flotilla@localhost',
      ...env,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

async function currentBranch(dir: string): Promise<string> {
  const name = await git(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
  return name || 'main';
}

async function headCommit(dir: string): Promise<string | null> {
  return git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).catch(() => null);
}

/** Checks `dir` is the top of a git work tree; the error says what to do otherwise. */
export async function repositoryRoot(dir: string): Promise<string> {
  try {
    return await git(dir, ['rev-parse', '--show-toplevel']);
  } catch {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `${dir} is not inside a git repository; run "git init" there first, or pass the repository's directory`,
    );
  }
}

export async function snapshotWorkTree(dir: string): Promise<Snapshot> {
  const branch = await currentBranch(dir);
  const head = await headCommit(dir);
  const index = path.join(tmpdir(), `flotilla-index-${process.pid}-${Date.now()}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    if (head) await git(dir, ['read-tree', head], env);
    await git(dir, ['add', '-A'], env);
    const tree = await git(dir, ['write-tree'], env);
    if (head && tree === (await git(dir, ['rev-parse', `${head}^{tree}`])))
      return { sha: head, branch, dirty: false };
    const parents = head ? ['-p', head] : [];
    const sha = await git(
      dir,
      ['commit-tree', tree, ...parents, '-m', 'flotilla run: working tree snapshot'],
      env,
    );
    return { sha, branch, dirty: true };
  } finally {
    await rm(index, { force: true });
  }
}

/** Pushes the snapshot to `refs/heads/<branch>` of the coordinator's project (force, it is a throwaway copy). */
export async function pushSnapshot(dir: string, remoteUrl: string, snapshot: Snapshot): Promise<void> {
  try {
    await git(
      dir,
      ['push', '--force', '--quiet', remoteUrl, `${snapshot.sha}:refs/heads/${snapshot.branch}`],
      { GIT_TERMINAL_PROMPT: '0' },
    );
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new FlotillaError(
      'FLO_ERR_GIT',
      `pushing the working tree to the coordinator failed: ${stderr.replace(/\/\/[^@\s]*@/g, '//***@').trim()}`,
    );
  }
}
