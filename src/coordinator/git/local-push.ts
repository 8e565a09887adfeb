/**
 * A push from a repository on the coordinator's own host, without smart HTTP (`flotilla run`'s
 * embedded coordinator): the bare repository borrows the source repository's objects through git
 * alternates, and the ref is read and moved under the push lock through the repository's kept
 * `cat-file` and `update-ref` processes (which pipeline creation starts anyway). What a `git push
 * --force` over HTTP would have left is the same: the ref at the commit, every object reachable
 * from it readable (and served to fetches) from the repository. No pack is written, and no
 * http-backend, receive-pack or index-pack process runs.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

import { FlotillaError } from '../../shared/errors.js';
import { existingRepositoryDir, type GitHostContext } from './context.js';
import type { RefUpdate } from './git-host.js';
import type { KeyedLock } from './keyed-lock.js';
import { PIPELINE_REFS } from './repositories.js';
import { validateObjectId, zeroIdLike } from './repo-paths.js';

export interface LocalPush {
  /** Absolute `objects` directory of the source repository (`git rev-parse --git-path objects`). */
  objectsDir: string;
  /** Full ref name: `refs/heads/<branch>` or `refs/tags/<tag>`. */
  ref: string;
  sha: string;
}

/** Adds `objectsDir` to the repository's alternates, once; true when it was added now. */
async function borrowObjects(dir: string, objectsDir: string): Promise<boolean> {
  const info = join(dir, 'objects', 'info');
  const file = join(info, 'alternates');
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current.split('\n').includes(objectsDir)) return false;
  await mkdir(info, { recursive: true });
  await appendFile(file, `${objectsDir}\n`);
  return true;
}

function validate(input: LocalPush): void {
  validateObjectId(input.sha);
  if (!isAbsolute(input.objectsDir) || input.objectsDir.includes('\n'))
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'objectsDir must be an absolute path');
  if (!/^refs\/(heads|tags)\/./.test(input.ref) || input.ref.startsWith(PIPELINE_REFS))
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `cannot push to ${input.ref}`);
}

/** See `GitHost.receiveLocal`. */
export async function receiveLocal(
  ctx: GitHostContext,
  pushLock: KeyedLock,
  fullPath: string,
  input: LocalPush,
): Promise<RefUpdate> {
  validate(input);
  const dir = await existingRepositoryDir(ctx, fullPath);
  return pushLock.run(dir, async () => {
    // The repository's kept git processes (which pipeline creation uses next) read the alternates
    // when they start: new ones are started after a new source was added.
    if (await borrowObjects(dir, input.objectsDir)) ctx.batches.forget(dir);
    const before = (await ctx.batches.forRepository(dir).info(input.ref))?.oid ?? zeroIdLike(input.sha);
    // Fails (FLO_ERR_GIT) when the commit is not readable through the alternates.
    await ctx.batches.refWriter(dir).update(input.ref, input.sha);
    ctx.logger.info({ fullPath, refs: [input.ref], local: true }, 'git push received');
    return { ref: input.ref, before, after: input.sha };
  });
}
