import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../shared/logger.js';
import { FlotillaError } from '../../shared/errors.js';
import { repositoryDir } from './repo-paths.js';
import type { BatchPool } from './batch-pool.js';
import type { GitRunnerOptions } from './run-git.js';

/** What every git host operation needs; built once by `createGitHost`. */
export interface GitHostContext {
  /** Absolute directory holding `<namespace>/<project>.git`. */
  root: string;
  git: GitRunnerOptions;
  logger: Logger;
  /** Kill an http-backend request after this long. */
  httpTimeoutMs: number;
  /** Kept `cat-file --batch-command` processes for object reads. */
  batches: BatchPool;
}

/** True when `dir` looks like a bare repository (has HEAD and objects/). */
export async function isBareRepository(dir: string): Promise<boolean> {
  try {
    const [head, objects] = await Promise.all([stat(join(dir, 'HEAD')), stat(join(dir, 'objects'))]);
    return head.isFile() && objects.isDirectory();
  } catch {
    return false;
  }
}

/** The repository's directory; throws FLO_ERR_BAD_REQUEST for a bad path, FLO_ERR_NOT_FOUND if absent. */
export async function existingRepositoryDir(ctx: GitHostContext, fullPath: string): Promise<string> {
  const dir = repositoryDir(ctx.root, fullPath);
  if (!(await isBareRepository(dir))) {
    throw new FlotillaError('FLO_ERR_NOT_FOUND', `repository ${fullPath} does not exist`, {
      details: { fullPath },
    });
  }
  return dir;
}
