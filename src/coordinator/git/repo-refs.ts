/** Creating and deleting branches and tags with compare-and-set ref updates (caller holds the lock). */
import type { GitHostContext } from './context.js';
import type { RefUpdate } from './git-host.js';
import { compareAndSet, zeroId, type Identity } from './repo-writes.js';
import { runGit } from './run-git.js';

/** Creates `ref` (which must not exist) at `target`. */
export async function createRef(
  ctx: GitHostContext,
  dir: string,
  ref: string,
  target: string,
): Promise<RefUpdate> {
  const zero = await zeroId(ctx, dir);
  await compareAndSet(ctx, dir, ref, target, zero);
  return { ref, before: zero, after: target };
}

/** Deletes `ref`, which must still have the value `expected`. */
export async function deleteRef(
  ctx: GitHostContext,
  dir: string,
  ref: string,
  expected: string,
): Promise<RefUpdate> {
  const zero = await zeroId(ctx, dir);
  await compareAndSet(ctx, dir, ref, zero, expected);
  return { ref, before: expected, after: zero };
}

/** Writes an annotated tag object (`git mktag`) for commit `sha`; answers its id. */
export async function writeTagObject(
  ctx: GitHostContext,
  dir: string,
  input: { name: string; sha: string; message: string; tagger: Identity; date: Date },
): Promise<string> {
  const seconds = Math.floor(input.date.getTime() / 1000);
  const body = input.message.endsWith('\n') ? input.message : `${input.message}\n`;
  const text =
    `object ${input.sha}\ntype commit\ntag ${input.name}\n` +
    `tagger ${input.tagger.name} <${input.tagger.email}> ${seconds} +0000\n\n${body}`;
  const { stdout } = await runGit(ctx.git, dir, ['mktag'], { input: text });
  return stdout.toString('utf8').trim();
}
