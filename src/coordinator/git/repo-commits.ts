/**
 * Commit history reads for the repository API: `git log` with a NUL-separated format, so names,
 * messages and trailers come back exactly as stored (no locale, no wrapping).
 */
import type { GitHostContext } from './context.js';
import { existingRepositoryDir } from './context.js';
import { runGit } from './run-git.js';

export interface CommitDetails {
  id: string;
  parentIds: string[];
  /** The first line of the message. */
  title: string;
  /** The whole message as stored. */
  message: string;
  authorName: string;
  authorEmail: string;
  /** Strict ISO 8601 with the commit's own offset, e.g. `2024-06-27T05:51:39-07:00`. */
  authoredDate: string;
  committerName: string;
  committerEmail: string;
  committedDate: string;
  /** Git trailers (`Key: value`) in message order. */
  trailers: Array<[string, string]>;
}

export interface LogQuery {
  /** Revisions to walk from (commit shas); ignored when `all`. */
  revisions: string[];
  all?: boolean;
  /** Only commits touching this path. */
  path?: string;
  since?: Date;
  until?: Date;
  firstParent?: boolean;
  skip: number;
  limit: number;
}

const RECORD = '\x1e';
const LOG_FORMAT =
  `--format=${RECORD}%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00` +
  '%(trailers:only,unfold,separator=%x1f)%x00%B';
const LOG_MAX_BUFFER = 64 * 1024 * 1024;

/** Parses the output of `git log` with `LOG_FORMAT`. */
export function parseLog(output: string): CommitDetails[] {
  return output
    .split(RECORD)
    .filter((r) => r !== '')
    .map(parseRecord);
}

function parseRecord(record: string): CommitDetails {
  const fields = record.split('\0');
  const at = (i: number): string => fields[i] ?? '';
  // Everything after the 9th NUL is the message (it may itself contain NULs in theory).
  const message = fields.slice(9).join('\0').replace(/\n$/, '');
  return {
    id: at(0),
    parentIds: at(1) === '' ? [] : at(1).split(' '),
    authorName: at(2),
    authorEmail: at(3),
    authoredDate: at(4),
    committerName: at(5),
    committerEmail: at(6),
    committedDate: at(7),
    trailers: parseTrailers(at(8)),
    title: message.split('\n', 1)[0] ?? '',
    message,
  };
}

function parseTrailers(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const item of text.split('\x1f')) {
    const colon = item.indexOf(':');
    if (colon <= 0) continue;
    out.push([item.slice(0, colon).trim(), item.slice(colon + 1).trim()]);
  }
  return out;
}

/** Commits reachable from `query.revisions` (or every ref), newest first, one page. */
export async function listCommits(
  ctx: GitHostContext,
  fullPath: string,
  query: LogQuery,
): Promise<CommitDetails[]> {
  const dir = await existingRepositoryDir(ctx, fullPath);
  const args = ['log', '--no-show-signature', '--no-color', LOG_FORMAT];
  args.push(`--skip=${query.skip}`, `--max-count=${query.limit}`);
  if (query.since) args.push(`--since=${query.since.toISOString()}`);
  if (query.until) args.push(`--until=${query.until.toISOString()}`);
  if (query.firstParent) args.push('--first-parent');
  if (query.all) args.push('--branches', '--tags');
  else if (query.revisions.length === 0) return [];
  else args.push(...query.revisions);
  args.push('--');
  if (query.path !== undefined) args.push(literalPath(query.path));
  const { stdout } = await runGit(ctx.git, dir, args, { maxBuffer: LOG_MAX_BUFFER });
  return parseLog(stdout.toString('utf8'));
}

/** The commits of `to` not reachable from `from` (`from..to`), oldest first. */
export async function commitsBetween(
  ctx: GitHostContext,
  dir: string,
  from: string | null,
  to: string,
  limit: number,
): Promise<CommitDetails[]> {
  const range = from === null ? [to] : [`${from}..${to}`];
  const args = ['log', '--no-show-signature', '--no-color', LOG_FORMAT, `--max-count=${limit}`, ...range];
  const { stdout } = await runGit(ctx.git, dir, [...args, '--'], { maxBuffer: LOG_MAX_BUFFER });
  return parseLog(stdout.toString('utf8')).reverse();
}

/** One commit's details; `sha` must already be a commit id. */
export async function commitDetails(ctx: GitHostContext, dir: string, sha: string): Promise<CommitDetails> {
  const { stdout } = await runGit(ctx.git, dir, [
    'log',
    '-1',
    '--no-show-signature',
    '--no-color',
    LOG_FORMAT,
    sha,
    '--',
  ]);
  const [details] = parseLog(stdout.toString('utf8'));
  if (!details) throw new Error(`git log printed nothing for ${sha}`);
  return details;
}

/** The last commit at or before `sha` that changed `path`, or null. */
export async function lastCommitFor(
  ctx: GitHostContext,
  dir: string,
  sha: string,
  path: string,
): Promise<string | null> {
  const { stdout } = await runGit(ctx.git, dir, ['log', '-1', '--format=%H', sha, '--', literalPath(path)]);
  const id = stdout.toString('utf8').trim();
  return id === '' ? null : id;
}

/** Whether `ancestor` is reachable from `descendant`. */
export async function isAncestor(
  ctx: GitHostContext,
  dir: string,
  ancestor: string,
  descendant: string,
): Promise<boolean> {
  const { exitCode } = await runGit(ctx.git, dir, ['merge-base', '--is-ancestor', ancestor, descendant], {
    okExitCodes: [1],
  });
  return exitCode === 0;
}

/** The best common ancestor of two commits, or null when they share no history. */
export async function mergeBase(
  ctx: GitHostContext,
  dir: string,
  a: string,
  b: string,
): Promise<string | null> {
  const { stdout, exitCode } = await runGit(ctx.git, dir, ['merge-base', a, b], { okExitCodes: [1] });
  return exitCode === 0 ? stdout.toString('utf8').trim() : null;
}

/** A pathspec that matches `path` literally (no globs, no pathspec magic). */
export function literalPath(path: string): string {
  return `:(literal)${path}`;
}
