import type { ObjectInfo } from './cat-file-batch.js';
import type { GitHostContext } from './context.js';

export type { ObjectInfo } from './cat-file-batch.js';

/**
 * Looks up objects by revision expression (`<sha>^{commit}`, `<sha>:<path>`, `refs/heads/x`) on
 * the repository's kept `cat-file --batch-command`, which answers "missing" instead of failing,
 * also in an empty repository. Answers in the order asked; an expression with a newline is null.
 */
export async function objectInfos(
  ctx: GitHostContext,
  dir: string,
  specs: readonly string[],
): Promise<Array<ObjectInfo | null>> {
  const batch = ctx.batches.forRepository(dir);
  return Promise.all(specs.map((spec) => batch.info(spec)));
}

export async function objectInfo(ctx: GitHostContext, dir: string, spec: string): Promise<ObjectInfo | null> {
  return ctx.batches.forRepository(dir).info(spec);
}

/** The commit sha `spec` peels to, or null. */
export async function peelToCommit(ctx: GitHostContext, dir: string, spec: string): Promise<string | null> {
  const info = await objectInfo(ctx, dir, `${spec}^{commit}`);
  return info?.type === 'commit' ? info.oid : null;
}
