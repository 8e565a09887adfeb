import { resolve } from 'node:path';
import type { Logger } from '../../shared/logger.js';
import { createBatchPool } from './batch-pool.js';
import type { GitHostContext } from './context.js';
import type { GitHost } from './git-host.js';
import { createKeyedLock } from './keyed-lock.js';
import { receiveLocal } from './local-push.js';
import * as reads from './repo-reads.js';
import * as repos from './repositories.js';
import { createRepositoryApi } from './repository-api.js';
import { createBackendLocator, serveHttp } from './serve-http.js';
import { createUploadPackInfoCache } from './upload-pack-v2.js';

export interface GitHostOptions {
  /** Directory holding `<namespace>/<project>.git`; created on demand. */
  root: string;
  logger: Logger;
  /** The git program; default `git` from PATH. */
  gitBinary?: string;
  /** Kill a plain git command (reads, ref updates) after this long. Default 30 s. */
  commandTimeoutMs?: number;
  /** Kill a git HTTP request (clone, fetch, push) after this long. Default 30 min. */
  httpTimeoutMs?: number;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
const DEFAULT_HTTP_TIMEOUT_MS = 30 * 60_000;

/** Builds the coordinator's git host over bare repositories under `options.root`. */
export function createGitHost(options: GitHostOptions): GitHost {
  const git = {
    gitBinary: options.gitBinary ?? 'git',
    timeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
  };
  const ctx: GitHostContext = {
    root: resolve(options.root),
    git,
    batches: createBatchPool(git),
    logger: options.logger.child({ component: 'git-host' }),
    httpTimeoutMs: options.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS,
  };
  // One lock per repository for pushes and repository API writes alike.
  const pushLock = createKeyedLock();
  const httpDeps = {
    ctx,
    pushLock,
    backendProgram: createBackendLocator(ctx),
    uploadPack: createUploadPackInfoCache(),
  };
  return {
    ...createRepositoryApi(ctx, pushLock),
    createRepository: (fullPath, defaultBranch) => repos.createRepository(ctx, fullPath, defaultBranch),
    repositoryExists: (fullPath) => repos.repositoryExists(ctx, fullPath),
    deleteRepository: (fullPath) => repos.deleteRepository(ctx, fullPath),
    close: () => ctx.batches.close(),
    serveHttp: (req, res, opts) => serveHttp(httpDeps, req, res, opts),
    receiveLocal: (fullPath, input) => receiveLocal(ctx, pushLock, fullPath, input),
    readFile: (fullPath, sha, path) => reads.readFile(ctx, fullPath, sha, path),
    listFiles: (fullPath, sha) => reads.listFiles(ctx, fullPath, sha),
    resolveRef: (fullPath, ref) => reads.resolveRef(ctx, fullPath, ref),
    refType: (fullPath, ref) => reads.refType(ctx, fullPath, ref),
    changedFiles: (fullPath, before, after) => reads.changedFiles(ctx, fullPath, before, after),
    commitInfo: (fullPath, sha) => reads.commitInfo(ctx, fullPath, sha),
    createPipelineRef: (fullPath, id, sha) => repos.createPipelineRef(ctx, fullPath, id, sha),
    deletePipelineRef: (fullPath, id) => repos.deletePipelineRef(ctx, fullPath, id),
    listBranches: (fullPath) => repos.listBranches(ctx, fullPath),
  };
}
