import { FlotillaError } from '../../shared/errors.js';
import type { GitHostContext } from './context.js';
import { existingRepositoryDir } from './context.js';
import type { CommitInfo } from './git-host.js';
import { objectInfo, objectInfos, peelToCommit } from './objects.js';
import { isPlainRefName, isZeroId, treePath, validateObjectId } from './repo-paths.js';
import { commitInfoOf, parseCommit } from './commit-object.js';
import { runGit } from './run-git.js';

/** The largest file `readFile` returns; CI configuration files are far smaller. */
export const MAX_READ_FILE_BYTES = 1024 * 1024;
const LIST_MAX_BUFFER = 64 * 1024 * 1024;
const ABBREVIATED_SHA = /^[0-9a-f]{4,64}$/;

export async function readFile(
  ctx: GitHostContext,
  fullPath: string,
  sha: string,
  path: string,
): Promise<string | null> {
  const dir = await existingRepositoryDir(ctx, fullPath);
  validateObjectId(sha);
  const file = treePath(path);
  if (file === null) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `"${path}" is not a file path`, { details: { path } });
  }
  const info = await objectInfo(ctx, dir, `${sha}:${file}`);
  if (info?.type !== 'blob') return null;
  if (info.size > MAX_READ_FILE_BYTES) {
    throw new FlotillaError('FLO_ERR_UNPROCESSABLE', `${file} is larger than ${MAX_READ_FILE_BYTES} bytes`, {
      details: { fullPath, sha, path: file, size: info.size, limit: MAX_READ_FILE_BYTES },
    });
  }
  const blob = await ctx.batches.forRepository(dir).contents(info.oid);
  return blob?.info.type === 'blob' ? blob.content.toString('utf8') : null;
}

export async function listFiles(ctx: GitHostContext, fullPath: string, sha: string): Promise<string[]> {
  const dir = await existingRepositoryDir(ctx, fullPath);
  validateObjectId(sha);
  if ((await peelToCommit(ctx, dir, sha)) === null) {
    throw new FlotillaError('FLO_ERR_NOT_FOUND', `commit ${sha} does not exist in ${fullPath}`, {
      details: { fullPath, sha },
    });
  }
  const { stdout } = await runGit(ctx.git, dir, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', sha], {
    maxBuffer: LIST_MAX_BUFFER,
  });
  return splitNul(stdout);
}

export async function resolveRef(ctx: GitHostContext, fullPath: string, ref: string): Promise<string | null> {
  const dir = await existingRepositoryDir(ctx, fullPath);
  if (!isPlainRefName(ref)) return null;
  const names = ref.startsWith('refs/') ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
  if (ABBREVIATED_SHA.test(ref)) names.push(ref);
  const infos = await objectInfos(
    ctx,
    dir,
    names.map((n) => `${n}^{commit}`),
  );
  return infos.find((i) => i?.type === 'commit')?.oid ?? null;
}

export async function refType(
  ctx: GitHostContext,
  fullPath: string,
  ref: string,
): Promise<'branch' | 'tag' | null> {
  const dir = await existingRepositoryDir(ctx, fullPath);
  if (!isPlainRefName(ref)) return null;
  const name = ref.replace(/^refs\/(heads|tags)\//, '');
  const [branch, tag] = await objectInfos(ctx, dir, [`refs/heads/${name}`, `refs/tags/${name}`]);
  if (branch && (ref === name || ref.startsWith('refs/heads/'))) return 'branch';
  if (tag && (ref === name || ref.startsWith('refs/tags/'))) return 'tag';
  return null;
}

export async function changedFiles(
  ctx: GitHostContext,
  fullPath: string,
  before: string,
  after: string,
): Promise<string[] | undefined> {
  const dir = await existingRepositoryDir(ctx, fullPath);
  validateObjectId(before, 'before');
  validateObjectId(after, 'after');
  if (isZeroId(before) || isZeroId(after)) return undefined;
  const [from, to] = await objectInfos(ctx, dir, [`${before}^{commit}`, `${after}^{commit}`]);
  if (!from || !to) return undefined;
  const { stdout } = await runGit(
    ctx.git,
    dir,
    ['diff-tree', '-r', '-z', '--name-only', '--no-renames', '--no-commit-id', from.oid, to.oid],
    { maxBuffer: LIST_MAX_BUFFER },
  );
  return splitNul(stdout);
}

export async function commitInfo(
  ctx: GitHostContext,
  fullPath: string,
  sha: string,
): Promise<CommitInfo | null> {
  const dir = await existingRepositoryDir(ctx, fullPath);
  validateObjectId(sha);
  const commit = await ctx.batches.forRepository(dir).contents(`${sha}^{commit}`);
  if (commit?.info.type !== 'commit') return null;
  return parseCommit(commit.info.oid, commit.content) ?? commitInfoFromLog(ctx, dir, commit.info.oid);
}

const COMMIT_FORMAT = '--format=%H%x00%an%x00%ae%x00%cI%x00%B';

/** `git log -1`: for a commit whose message is not UTF-8 (an `encoding` header), which git re-encodes. */
async function commitInfoFromLog(ctx: GitHostContext, dir: string, commit: string): Promise<CommitInfo> {
  const { stdout } = await runGit(ctx.git, dir, ['log', '-1', '--no-show-signature', COMMIT_FORMAT, commit]);
  const [hash = commit, authorName = '', authorEmail = '', date = '', ...body] = stdout
    .toString('utf8')
    .split('\0');
  return commitInfoOf(hash, authorName, authorEmail, new Date(date), body.join('\0'));
}

function splitNul(output: Buffer): string[] {
  return output
    .toString('utf8')
    .split('\0')
    .filter((p) => p !== '');
}
