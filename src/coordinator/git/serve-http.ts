import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { errorMessage, isFlotillaError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { cgiEnv, queryString } from './cgi-env.js';
import { failResponse, runCgi } from './cgi-process.js';
import type { GitHostContext } from './context.js';
import { isBareRepository } from './context.js';
import type { RefUpdate, ServeHttpOptions } from './git-host.js';
import type { KeyedLock } from './keyed-lock.js';
import { diffRefSnapshots } from './ref-updates.js';
import { PIPELINE_REFS, snapshotRefs } from './repositories.js';
import { repositoryDir, validatePathInfo } from './repo-paths.js';
import { runGit } from './run-git.js';
import { serveUploadPackV2 } from './upload-pack-http.js';
import type { UploadPackInfoCache } from './upload-pack-v2.js';

export interface HttpServeDeps {
  ctx: GitHostContext;
  /** Serialises pushes per repository, so a ref snapshot diff belongs to one push. */
  pushLock: KeyedLock;
  /** The `git-http-backend` program. */
  backendProgram: () => Promise<string>;
  /** Protocol v2 advertisements, for answering `info/refs` and `ls-refs` without git. */
  uploadPack: UploadPackInfoCache;
}

/** See `GitHost.serveHttp`. */
export async function serveHttp(
  deps: HttpServeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  opts: ServeHttpOptions,
): Promise<void> {
  const log = deps.ctx.logger.child({ fullPath: opts.fullPath, pathInfo: opts.pathInfo, method: req.method });
  try {
    await route(deps, req, res, opts, log);
  } catch (err) {
    const status = isFlotillaError(err) ? err.httpStatus : 500;
    if (status >= 500) log.error({ err }, 'git http request failed');
    failResponse(res, status, status >= 500 ? 'git request failed' : errorMessage(err));
  }
}

async function route(
  deps: HttpServeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  opts: ServeHttpOptions,
  log: Logger,
): Promise<void> {
  const dir = repositoryDir(deps.ctx.root, opts.fullPath);
  validatePathInfo(opts.pathInfo);
  if (!(await isBareRepository(dir))) {
    failResponse(res, 404, 'repository not found');
    return;
  }
  if (isReceivePack(req, opts.pathInfo) && !opts.allowPush) {
    log.info({ remoteUser: opts.remoteUser }, 'git push refused');
    failResponse(res, 403, 'you are not allowed to push to this repository');
    return;
  }
  const v2 = await serveUploadPackV2(deps, dir, req, res, opts.pathInfo);
  if (v2.answered) return;
  const program = await deps.backendProgram();
  const run = (): Promise<void> =>
    runCgi(req, res, {
      program,
      env: cgiEnv(req, {
        projectRoot: deps.ctx.root,
        pathInfo: `/${opts.fullPath}.git${opts.pathInfo}`,
        remoteUser: opts.remoteUser,
      }),
      timeoutMs: deps.ctx.httpTimeoutMs,
      logger: log,
      body: v2.body,
    });
  if (req.method === 'POST' && opts.pathInfo === '/git-receive-pack') {
    await servePush(deps, dir, run, opts, log);
  } else {
    await run();
  }
}

function isReceivePack(req: IncomingMessage, pathInfo: string): boolean {
  return (
    pathInfo === '/git-receive-pack' ||
    new URLSearchParams(queryString(req.url ?? '')).get('service') === 'git-receive-pack'
  );
}

/** Runs a receive-pack request between two ref snapshots, then reports what it changed. */
async function servePush(
  deps: HttpServeDeps,
  dir: string,
  run: () => Promise<void>,
  opts: ServeHttpOptions,
  log: Logger,
): Promise<void> {
  const updates = await deps.pushLock.run(dir, async () => {
    const before = await snapshotRefs(deps.ctx, dir);
    await run();
    const after = await snapshotRefs(deps.ctx, dir);
    // Pipeline refs are hidden from receive-pack; any change there is ours, not this push's.
    return diffRefSnapshots(before, after).filter((u) => !u.ref.startsWith(PIPELINE_REFS));
  });
  if (updates.length === 0) return;
  log.info({ remoteUser: opts.remoteUser, refs: updates.map((u) => u.ref) }, 'git push received');
  await notifyPush(opts.onPush, updates, log);
}

async function notifyPush(
  onPush: ServeHttpOptions['onPush'],
  updates: RefUpdate[],
  log: Logger,
): Promise<void> {
  if (!onPush) return;
  try {
    await onPush(updates);
  } catch (err) {
    log.error({ err }, 'git push handler failed');
  }
}

/** Finds `git-http-backend` in git's exec path once; a failed lookup is retried on the next call. */
export function createBackendLocator(ctx: GitHostContext): () => Promise<string> {
  let found: Promise<string> | undefined;
  return () => {
    found ??= runGit(ctx.git, null, ['--exec-path']).then(
      ({ stdout }) => join(stdout.toString('utf8').trim(), 'git-http-backend'),
      (err: unknown) => {
        found = undefined;
        throw err;
      },
    );
    return found;
  };
}
