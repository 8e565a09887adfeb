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
  /** The absolute objects directory holding the snapshot's objects (for a local push). */
  objectsDir: string;
  /** True when the repository is shallow (its history cannot be borrowed as it is). */
  shallow: boolean;
}

async function git(
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  command = 'git',
): Promise<string> {
  const { stdout } = await exec(command, args, {
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

/**
 * The snapshot as one shell script: one process from Node instead of seven (each spawn from a large
 * Node process costs more than the git command it runs). Prints the sha, the branch, clean|dirty,
 * the repository's absolute objects directory and whether it is shallow, one per line.
 */
const SNAPSHOT_SCRIPT = `set -e
branch=$(git symbolic-ref --quiet --short HEAD 2>/dev/null) || branch=
[ -n "$branch" ] || branch=main
head=$(git rev-parse --verify --quiet 'HEAD^{commit}' 2>/dev/null) || head=
[ -z "$head" ] || git read-tree "$head"
git add -A
tree=$(git write-tree)
objects=$(cd "$(git rev-parse --git-path objects)" && pwd -P)
shallow=$(git rev-parse --is-shallow-repository)
if [ -n "$head" ] && [ "$tree" = "$(git rev-parse "$head^{tree}")" ]; then
  sha=$head state=clean
else
  state=dirty
  if [ -n "$head" ]; then sha=$(git commit-tree "$tree" -p "$head" -m "$1")
  else sha=$(git commit-tree "$tree" -m "$1"); fi
fi
printf '%s\\n%s\\n%s\\n%s\\n%s\\n' "$sha" "$branch" "$state" "$objects" "$shallow"`;

export async function snapshotWorkTree(dir: string): Promise<Snapshot> {
  const index = path.join(tmpdir(), `flotilla-index-${process.pid}-${Date.now()}`);
  try {
    const out = await git(
      dir,
      ['-c', SNAPSHOT_SCRIPT, 'sh', 'flotilla run: working tree snapshot'],
      {
        GIT_INDEX_FILE: index,
      },
      'sh',
    );
    const [sha = '', branch = 'main', state, objectsDir = '', shallow] = out.split('\n');
    return { sha, branch, dirty: state === 'dirty', objectsDir, shallow: shallow !== 'false' };
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
