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

/**
 * The snapshot as one shell script: one process from Node (each spawn from a large Node process
 * costs more than the git command it runs), and two git commands when the work tree is clean:
 * - `rev-parse` gives the work tree's top, whether it is shallow and its objects directory; a
 *   directory that is not the top stops here (the caller copies it instead);
 * - `status` (porcelain v2, every untracked file, submodules compared in full, without refreshing
 *   the user's index) gives HEAD, the branch, and whether `add -A` would change anything;
 * - only then (or without a HEAD): a temporary index gets HEAD's tree plus every change `git add -A`
 *   would stage (ignored files stay out), and `git commit-tree` records it on top of HEAD.
 * Prints `top`, `none` or `outside` first; after `top`, the sha, the branch, clean|dirty, the
 * absolute objects directory and whether the repository is shallow, one per line.
 */
const SNAPSHOT_SCRIPT = `set -e
info=$(git rev-parse --show-toplevel --is-shallow-repository --git-path objects 2>/dev/null) || {
  echo none; exit 0; }
{ read -r top; read -r shallow; read -r objects; } <<EOF
$info
EOF
if [ "$(cd "$top" && pwd -P)" != "$(pwd -P)" ]; then printf 'outside\\n%s\\n' "$top"; exit 0; fi
objects=$(cd "$objects" && pwd -P)
status=$(git --no-optional-locks status --porcelain=v2 --branch --untracked-files=all --ignore-submodules=none)
head= branch= changed=
while IFS= read -r line; do
  case $line in
    '# branch.oid '*) head=\${line#'# branch.oid '} ;;
    '# branch.head '*) branch=\${line#'# branch.head '} ;;
    '#'*|'') ;;
    *) changed=1 ;;
  esac
done <<EOF
$status
EOF
[ "$head" != '(initial)' ] || head=
[ "$branch" != '(detached)' ] || branch=
[ -n "$branch" ] || branch=main
state=clean sha=$head
if [ -n "$changed" ] || [ -z "$head" ]; then
  export GIT_INDEX_FILE="$2"
  [ -z "$head" ] || git read-tree "$head"
  git add -A
  tree=$(git write-tree)
  if [ -z "$head" ] || [ "$tree" != "$(git rev-parse "$head^{tree}")" ]; then
    state=dirty
    if [ -n "$head" ]; then sha=$(git commit-tree "$tree" -p "$head" -m "$1")
    else sha=$(git commit-tree "$tree" -m "$1"); fi
  fi
fi
printf 'top\\n%s\\n%s\\n%s\\n%s\\n%s\\n' "$sha" "$branch" "$state" "$objects" "$shallow"`;

/** Where a directory stands: outside any work tree, below a work tree's top, or its top. */
export type SourceInspection =
  { kind: 'none' } | { kind: 'outside'; top: string } | { kind: 'top'; snapshot: Snapshot };

/**
 * Snapshots `dir` when it is the top of a git work tree (uncommitted changes included; the user's
 * index, HEAD and branches untouched); otherwise says where it stands.
 */
export async function inspectSource(dir: string): Promise<SourceInspection> {
  const index = path.join(tmpdir(), `flotilla-index-${process.pid}-${Date.now()}`);
  try {
    const out = await git(
      dir,
      ['-c', SNAPSHOT_SCRIPT, 'sh', 'flotilla run: working tree snapshot', index],
      {},
      'sh',
    );
    const [kind, ...rest] = out.split('\n');
    if (kind === 'none') return { kind: 'none' };
    if (kind === 'outside') return { kind: 'outside', top: rest[0] ?? '' };
    const [sha = '', branch = 'main', state, objectsDir = '', shallow] = rest;
    return {
      kind: 'top',
      snapshot: { sha, branch, dirty: state === 'dirty', objectsDir, shallow: shallow !== 'false' },
    };
  } finally {
    await rm(index, { force: true });
  }
}

/** The snapshot of `dir`, which must be the top of a git work tree. */
export async function snapshotWorkTree(dir: string): Promise<Snapshot> {
  const inspected = await inspectSource(dir);
  if (inspected.kind === 'top') return inspected.snapshot;
  const where = inspected.kind === 'outside' ? ` (its top is ${inspected.top})` : '';
  throw new FlotillaError('FLO_ERR_GIT', `${dir} is not the top of a git work tree${where}`);
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
