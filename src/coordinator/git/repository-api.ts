/**
 * The repository API port: what GitLab's branches, tags, commits, files, tree and compare
 * endpoints need from a bare repository. Reads are plain git commands; writes run under the same
 * per-repository lock as pushes and end in a compare-and-set `update-ref`, and answer the ref
 * update so the caller can treat it exactly like a push (pipelines).
 *
 * Arguments named `sha` are full commit ids the caller resolved (e.g. with `resolveRef`).
 */
import type { GitHostContext } from './context.js';
import { existingRepositoryDir } from './context.js';
import type { RefUpdate } from './git-host.js';
import type { KeyedLock } from './keyed-lock.js';
import { peelToCommit } from './objects.js';
import * as commits from './repo-commits.js';
import type { CommitDetails, LogQuery } from './repo-commits.js';
import * as diffs from './repo-diffs.js';
import type { DiffStats, FileDiff } from './repo-diffs.js';
import { createRef, deleteRef, writeTagObject } from './repo-refs.js';
import { isPlainRefName } from './repo-paths.js';
import * as tree from './repo-tree.js';
import type { BlobAt, RefHead, TagDetails, TreeEntry } from './repo-tree.js';
import { commitActions, type CommitInput, type Identity } from './repo-writes.js';
import { runGit } from './run-git.js';

export type { CommitDetails, LogQuery } from './repo-commits.js';
export type { DiffStats, FileDiff } from './repo-diffs.js';
export type { BlobAt, RefHead, TagDetails, TreeEntry } from './repo-tree.js';
export type { CommitAction, CommitInput, Identity } from './repo-writes.js';

export interface NewTag {
  name: string;
  sha: string;
  /** Given: an annotated tag with this message; absent: a lightweight tag. */
  message?: string;
  tagger: Identity;
  date: Date;
}

export interface RepositoryApi {
  listCommits(fullPath: string, query: LogQuery): Promise<CommitDetails[]>;
  /** The commit `sha` peels to, or null. */
  getCommit(fullPath: string, sha: string): Promise<CommitDetails | null>;
  /** Commits of `to` not in `from` (null: all of `to`'s history), oldest first, at most `limit`. */
  commitsBetween(fullPath: string, from: string | null, to: string, limit: number): Promise<CommitDetails[]>;
  diff(fullPath: string, from: string | null, to: string): Promise<FileDiff[]>;
  diffStats(fullPath: string, from: string | null, to: string): Promise<DiffStats>;
  mergeBase(fullPath: string, a: string, b: string): Promise<string | null>;
  /** Null when `path` is not a directory at `sha`. */
  listTree(fullPath: string, sha: string, path: string, recursive: boolean): Promise<TreeEntry[] | null>;
  blobAt(fullPath: string, sha: string, path: string): Promise<BlobAt | null>;
  lastCommitFor(fullPath: string, sha: string, path: string): Promise<string | null>;
  listBranchHeads(fullPath: string): Promise<RefHead[]>;
  listTags(fullPath: string): Promise<TagDetails[]>;
  /** Branches whose head is reachable from `sha` but is not `sha` itself. */
  branchesMergedInto(fullPath: string, sha: string): Promise<Set<string>>;
  /** Whether `ref` (a full `refs/...` name) is a ref name git accepts and we allow. */
  isValidRefName(ref: string): Promise<boolean>;
  commit(fullPath: string, input: CommitInput): Promise<RefUpdate>;
  /** Fails (FLO_ERR_BAD_REQUEST) when the ref exists. */
  createBranch(fullPath: string, name: string, sha: string): Promise<RefUpdate>;
  /** Fails when the branch no longer points at `expected`. */
  deleteBranch(fullPath: string, name: string, expected: string): Promise<RefUpdate>;
  createTag(fullPath: string, tag: NewTag): Promise<RefUpdate>;
  /** `expected` is the tag ref's own value (the tag object for an annotated tag). */
  deleteTag(fullPath: string, name: string, expected: string): Promise<RefUpdate>;
}

function readOps(ctx: GitHostContext) {
  const repo = (fullPath: string): Promise<string> => existingRepositoryDir(ctx, fullPath);
  return {
    listCommits: (fullPath: string, query: LogQuery) => commits.listCommits(ctx, fullPath, query),
    getCommit: async (fullPath: string, sha: string) => {
      const dir = await repo(fullPath);
      const id = await peelToCommit(ctx, dir, sha);
      return id === null ? null : commits.commitDetails(ctx, dir, id);
    },
    commitsBetween: async (fullPath: string, from: string | null, to: string, limit: number) =>
      commits.commitsBetween(ctx, await repo(fullPath), from, to, limit),
    diff: async (fullPath: string, from: string | null, to: string) =>
      diffs.diffCommits(ctx, await repo(fullPath), from, to),
    diffStats: async (fullPath: string, from: string | null, to: string) =>
      diffs.diffStats(ctx, await repo(fullPath), from, to),
    mergeBase: async (fullPath: string, a: string, b: string) =>
      commits.mergeBase(ctx, await repo(fullPath), a, b),
    listTree: async (fullPath: string, sha: string, path: string, recursive: boolean) =>
      tree.listTree(ctx, await repo(fullPath), sha, path, recursive),
    blobAt: async (fullPath: string, sha: string, path: string) =>
      tree.blobAt(ctx, await repo(fullPath), sha, path),
    lastCommitFor: async (fullPath: string, sha: string, path: string) =>
      commits.lastCommitFor(ctx, await repo(fullPath), sha, path),
    listBranchHeads: async (fullPath: string) => tree.listRefHeads(ctx, await repo(fullPath), 'refs/heads/'),
    listTags: async (fullPath: string) => tree.listTags(ctx, await repo(fullPath)),
    branchesMergedInto: async (fullPath: string, sha: string) =>
      tree.branchesMergedInto(ctx, await repo(fullPath), sha),
    isValidRefName: async (ref: string) =>
      isPlainRefName(ref) &&
      (await runGit(ctx.git, null, ['check-ref-format', ref], { okExitCodes: [1] })).exitCode === 0,
  };
}

/** Builds the port over `ctx`; `lock` must be the lock pushes take (keyed by repository dir). */
export function createRepositoryApi(ctx: GitHostContext, lock: KeyedLock): RepositoryApi {
  const locked = async <T>(fullPath: string, task: (dir: string) => Promise<T>): Promise<T> => {
    const dir = await existingRepositoryDir(ctx, fullPath);
    return lock.run(dir, () => task(dir));
  };
  return {
    ...readOps(ctx),
    commit: (fullPath, input) => locked(fullPath, (dir) => commitActions(ctx, dir, input)),
    createBranch: (fullPath, name, sha) =>
      locked(fullPath, (dir) => createRef(ctx, dir, `refs/heads/${name}`, sha)),
    deleteBranch: (fullPath, name, expected) =>
      locked(fullPath, (dir) => deleteRef(ctx, dir, `refs/heads/${name}`, expected)),
    createTag: (fullPath, tag) =>
      locked(fullPath, async (dir) => {
        const target =
          tag.message === undefined
            ? tag.sha
            : await writeTagObject(ctx, dir, { ...tag, message: tag.message });
        const update = await createRef(ctx, dir, `refs/tags/${tag.name}`, target);
        return { ...update, after: target };
      }),
    deleteTag: (fullPath, name, expected) =>
      locked(fullPath, (dir) => deleteRef(ctx, dir, `refs/tags/${name}`, expected)),
  };
}
