import type { GitHostContext } from './context.js';
import { runGit } from './run-git.js';

export interface ObjectInfo {
  oid: string;
  type: 'blob' | 'tree' | 'commit' | 'tag';
  size: number;
}

/**
 * Looks up objects by revision expression (`<sha>^{commit}`, `<sha>:<path>`, `refs/heads/x`) with
 * one `cat-file --batch-check`, which answers "missing" instead of failing, also in an empty
 * repository. Answers in the order asked. Expressions must not contain a newline.
 */
export async function objectInfos(
  ctx: GitHostContext,
  dir: string,
  specs: readonly string[],
): Promise<Array<ObjectInfo | null>> {
  const input = specs.map((s) => `${s}\n`).join('');
  const { stdout } = await runGit(ctx.git, dir, ['cat-file', '--batch-check'], { input });
  const lines = stdout.toString('utf8').split('\n');
  return specs.map((_, i) => parseBatchCheckLine(lines[i] ?? ''));
}

export async function objectInfo(ctx: GitHostContext, dir: string, spec: string): Promise<ObjectInfo | null> {
  const [info] = await objectInfos(ctx, dir, [spec]);
  return info ?? null;
}

/** `<oid> <type> <size>`, or `<spec> missing` / `<spec> ambiguous` → null. */
function parseBatchCheckLine(line: string): ObjectInfo | null {
  const [oid, type, size, extra] = line.split(' ');
  if (oid === undefined || size === undefined || extra !== undefined || !isObjectType(type)) return null;
  return { oid, type, size: Number(size) };
}

function isObjectType(type: string | undefined): type is ObjectInfo['type'] {
  return type === 'blob' || type === 'tree' || type === 'commit' || type === 'tag';
}

/** The commit sha `spec` peels to, or null. */
export async function peelToCommit(ctx: GitHostContext, dir: string, spec: string): Promise<string | null> {
  const info = await objectInfo(ctx, dir, `${spec}^{commit}`);
  return info?.type === 'commit' ? info.oid : null;
}
