/**
 * The coordinator's git hosting port: bare repositories under one root directory, served over
 * git smart HTTP by git's own `http-backend` (protocol v2's advertisement and `ls-refs` answered in
 * process, byte for byte as upload-pack does), and read by the pipeline engine.
 *
 * Contract:
 * - `fullPath` is `namespace/project` (nested groups allowed), segments of `[A-Za-z0-9_.-]`, never
 *   `..`; a bad path throws FLO_ERR_BAD_REQUEST before anything touches the disk.
 * - Commit arguments named `sha` are full hex object names; anything else throws FLO_ERR_BAD_REQUEST.
 * - Reads on a repository that does not exist throw FLO_ERR_NOT_FOUND; reads of a missing object
 *   answer `null` (also in an empty repository with no commits).
 * - A failing or timed-out git command throws FLO_ERR_GIT.
 * - `serveHttp` always answers the request itself and never rejects: authentication is the
 *   caller's job, push permission is `allowPush`.
 * - Every method is safe to call concurrently; pushes to one repository are serialised so that
 *   each push's ref updates are reported to its own `onPush`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RepositoryApi } from './repository-api.js';

/** One ref changed by a push. A created ref has `before` all zeros, a deleted ref `after`. */
export interface RefUpdate {
  /** Full name, e.g. `refs/heads/main` or `refs/tags/v1`. */
  ref: string;
  before: string;
  after: string;
}

export interface CommitInfo {
  sha: string;
  /** The first line of the message. */
  title: string;
  /** The whole message without trailing newlines. */
  message: string;
  authorName: string;
  authorEmail: string;
  committedAt: Date;
}

export interface BranchInfo {
  name: string;
  /** The commit the branch points at. */
  sha: string;
}

export interface ServeHttpOptions {
  fullPath: string;
  /** The URL path after `<project>.git`, e.g. `/info/refs` or `/git-upload-pack`. */
  pathInfo: string;
  /** The authenticated user, recorded as the reflog identity of pushes. */
  remoteUser: string;
  /** When false a receive-pack request (push) is answered 403 without running git. */
  allowPush: boolean;
  /**
   * Called once after a push request has finished, with the refs it changed (never with an empty
   * list). A rejection is logged, never thrown.
   */
  onPush?: (updates: RefUpdate[]) => void | Promise<void>;
}

/** The repository API part (branches, tags, commits, files, tree, compare) is `RepositoryApi`. */
export interface GitHost extends RepositoryApi {
  /** `git init --bare` at `<root>/<fullPath>.git` with HEAD on `defaultBranch`; idempotent. */
  createRepository(fullPath: string, defaultBranch: string): Promise<void>;
  repositoryExists(fullPath: string): Promise<boolean>;
  /** Removes the repository; idempotent. */
  deleteRepository(fullPath: string): Promise<void>;
  /** Ends the kept git reader processes (they also end on their own when idle). */
  close(): void;
  /**
   * A push from a repository on this host (`flotilla run`'s embedded coordinator), without smart
   * HTTP: the repository borrows the objects of `objectsDir` (git alternates) and `ref` is moved to
   * `sha` (forced) under the push lock. Answers the ref update; the caller reports it as a push.
   */
  receiveLocal(fullPath: string, input: { objectsDir: string; ref: string; sha: string }): Promise<RefUpdate>;
  /** Serves one git smart HTTP request by running `git http-backend` as a CGI program. */
  serveHttp(req: IncomingMessage, res: ServerResponse, opts: ServeHttpOptions): Promise<void>;
  /** A file's content at a commit; null when the commit or path is missing or not a file. */
  readFile(fullPath: string, sha: string, path: string): Promise<string | null>;
  /** Every file path of the commit's tree, recursively. Throws FLO_ERR_NOT_FOUND for a missing commit. */
  listFiles(fullPath: string, sha: string): Promise<string[]>;
  /** A branch name, tag name, full `refs/...` name or (abbreviated) sha → commit sha, or null. */
  resolveRef(fullPath: string, ref: string): Promise<string | null>;
  /** Whether `ref` names a branch or a tag (branch wins when both exist). */
  refType(fullPath: string, ref: string): Promise<'branch' | 'tag' | null>;
  /**
   * Paths changed between two commits (added, modified, deleted; renames as both paths), or
   * undefined when either side is all zeros or unknown (a new or deleted branch, a forced push to
   * an object we do not have).
   */
  changedFiles(fullPath: string, before: string, after: string): Promise<string[] | undefined>;
  commitInfo(fullPath: string, sha: string): Promise<CommitInfo | null>;
  /** Creates or moves `refs/pipelines/<pipelineId>` to `sha`, so runners can fetch it by refspec. */
  createPipelineRef(fullPath: string, pipelineId: number, sha: string): Promise<void>;
  /** Removes `refs/pipelines/<pipelineId>`; idempotent. */
  deletePipelineRef(fullPath: string, pipelineId: number): Promise<void>;
  /** Branches sorted by name. */
  listBranches(fullPath: string): Promise<BranchInfo[]>;
}
