/**
 * Diffs between two commits in GitLab's per-file shape. File metadata comes from `--raw -z` (exact
 * paths, modes, rename detection); the patch text from a second `-p` run over the same diff queue,
 * split per file in the same order, with git's header lines removed as GitLab does.
 */
import type { GitHostContext } from './context.js';
import { runGit } from './run-git.js';

export interface FileDiff {
  oldPath: string;
  newPath: string;
  /** Octal mode strings; "0" for the side where the file does not exist. */
  aMode: string;
  bMode: string;
  newFile: boolean;
  renamedFile: boolean;
  deletedFile: boolean;
  /** The hunks (`@@ ...`), or git's "Binary files ... differ" line; "" for mode-only changes. */
  diff: string;
}

export interface DiffStats {
  additions: number;
  deletions: number;
  total: number;
}

const DIFF_MAX_BUFFER = 64 * 1024 * 1024;

function treeArgs(from: string | null, to: string): string[] {
  return from === null ? ['--root', to] : [from, to];
}

/** Parses `git diff-tree -r -z --raw -M` output. */
export function parseRawDiff(output: string): Array<Omit<FileDiff, 'diff'>> {
  const parts = output.split('\0');
  const out: Array<Omit<FileDiff, 'diff'>> = [];
  let i = 0;
  while (i < parts.length) {
    const meta = parts[i] ?? '';
    if (!meta.startsWith(':')) {
      i++;
      continue;
    }
    const [oldMode = '0', newMode = '0', , , status = ''] = meta.slice(1).split(' ');
    const letter = status.charAt(0);
    const first = parts[i + 1] ?? '';
    const twoPaths = letter === 'R' || letter === 'C';
    const second = twoPaths ? (parts[i + 2] ?? '') : first;
    i += twoPaths ? 3 : 2;
    out.push({
      oldPath: first,
      newPath: second,
      aMode: Number.parseInt(oldMode, 8) === 0 ? '0' : oldMode,
      bMode: Number.parseInt(newMode, 8) === 0 ? '0' : newMode,
      newFile: letter === 'A',
      renamedFile: letter === 'R',
      deletedFile: letter === 'D',
    });
  }
  return out;
}

/** Splits `git diff-tree -p` output into each file's patch body, headers removed. */
export function splitPatches(output: string): string[] {
  const blocks = output.split(/^diff --git /m).slice(1);
  return blocks.map((block) => {
    const lines = block.split('\n');
    const start = lines.findIndex((l) => l.startsWith('@@') || l.startsWith('Binary files'));
    return start < 0 ? '' : lines.slice(start).join('\n');
  });
}

/** Per-file diffs from `from` (null: the empty tree) to `to`. */
export async function diffCommits(
  ctx: GitHostContext,
  dir: string,
  from: string | null,
  to: string,
): Promise<FileDiff[]> {
  const common = ['diff-tree', '-r', '-M', '--no-commit-id', '--no-color', '--no-ext-diff'];
  const [raw, patch] = await Promise.all([
    runGit(ctx.git, dir, [...common, '-z', '--raw', ...treeArgs(from, to)], { maxBuffer: DIFF_MAX_BUFFER }),
    runGit(ctx.git, dir, [...common, '-p', '--full-index', ...treeArgs(from, to)], {
      maxBuffer: DIFF_MAX_BUFFER,
    }),
  ]);
  const files = parseRawDiff(raw.stdout.toString('utf8'));
  const patches = splitPatches(patch.stdout.toString('utf8'));
  const aligned = patches.length === files.length;
  return files.map((f, i) => ({ ...f, diff: aligned ? (patches[i] ?? '') : '' }));
}

/** Lines added and removed from `from` (null: the empty tree) to `to`; binary files count 0. */
export async function diffStats(
  ctx: GitHostContext,
  dir: string,
  from: string | null,
  to: string,
): Promise<DiffStats> {
  const { stdout } = await runGit(
    ctx.git,
    dir,
    ['diff-tree', '-r', '-M', '--no-commit-id', '--numstat', '-z', ...treeArgs(from, to)],
    { maxBuffer: DIFF_MAX_BUFFER },
  );
  let additions = 0;
  let deletions = 0;
  for (const line of stdout.toString('utf8').split('\0')) {
    const m = /^(\d+|-)\t(\d+|-)\t/.exec(line);
    if (!m) continue;
    additions += m[1] === '-' ? 0 : Number(m[1]);
    deletions += m[2] === '-' ? 0 : Number(m[2]);
  }
  return { additions, deletions, total: additions + deletions };
}
