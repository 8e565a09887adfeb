/**
 * The shared source store's shortcut for a repository on this host (`flotilla run`'s embedded
 * coordinator): when a fetch of the job's refspecs and depth would copy the repository's objects
 * as they are, the work trees borrow the repository's own objects directory instead, and the refs
 * that fetch would have written are read from the repository. That is the case when:
 * - the repository is not shallow and has no tags (so no tag would be followed or left out);
 * - every refspec is `[+]src:dst` and every source without a `*` exists;
 * - the depth is 0, or the history reachable from the sources has fewer than `depth` commits (git
 *   marks the commits at `depth - 1` shallow even when they are roots).
 * Anything else answers null and the store fetches as before. One process (two git commands)
 * instead of `init`, `fetch` (with its upload-pack, pack-objects, unpack-objects and rev-list) and
 * `for-each-ref`.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';

import { collectOutput, runProcess } from './process.js';

export interface BorrowRequest {
  depth: number;
  refspecs: readonly string[];
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

export interface Borrowed {
  objectsDir: string;
  refs: Map<string, string>;
  shallow: null;
}

interface Refspec {
  src: string;
  dst: string;
}

/** `[+]src:dst` with a `*` on both sides or neither; null for anything else (negative, no dst). */
export function parseRefspec(spec: string): Refspec | null {
  const m = /^\+?([^:^]+):([^:]+)$/.exec(spec);
  if (!m?.[1] || !m[2]) return null;
  const stars = (s: string): number => s.split('*').length - 1;
  const [src, dst] = [m[1], m[2]];
  if (stars(src) > 1 || stars(src) !== stars(dst)) return null;
  return { src, dst };
}

/** The refs `refspecs` map `refs` to (what a fetch writes); null when a plain source is missing. */
export function mapRefs(
  refspecs: readonly Refspec[],
  refs: ReadonlyMap<string, string>,
): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const { src, dst } of refspecs) {
    const star = src.indexOf('*');
    if (star < 0) {
      const sha = refs.get(src);
      if (sha === undefined) return null;
      out.set(dst, sha);
      continue;
    }
    const [prefix, suffix] = [src.slice(0, star), src.slice(star + 1)];
    for (const [name, sha] of refs) {
      if (!name.startsWith(prefix) || !name.endsWith(suffix) || name.length < prefix.length + suffix.length)
        continue;
      out.set(dst.replace('*', name.slice(prefix.length, name.length - suffix.length)), sha);
    }
  }
  return out;
}

// $1: the depth; then the sources as rev-list arguments. Prints the refs, then `---` and the
// count of commits reachable from the sources (at most depth) when the depth is not 0.
const SCRIPT = `git for-each-ref --format='%(objectname) %(refname)' || exit
depth=$1; shift
[ "$depth" -gt 0 ] || exit 0
echo ---
exec git rev-list --count --max-count=$depth "$@" --`;

/** `<object id> <ref name>` lines (what `for-each-ref --format='%(objectname) %(refname)'` prints). */
export function parseRefs(text: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{40,64}) (refs\/\S+)$/.exec(line.trim());
    if (m?.[1] && m[2]) refs.set(m[2], m[1]);
  }
  return refs;
}

/** The refs, then (after a `---` line) the count of commits, as SCRIPT prints them. */
function parseListing(text: string): { refs: Map<string, string>; count: number | null } {
  const at = text.search(/^---$/m);
  if (at < 0) return { refs: parseRefs(text), count: null };
  const count = /^\s*(\d+)\s*$/.exec(text.slice(at + 3))?.[1];
  return { refs: parseRefs(text.slice(0, at)), count: count === undefined ? null : Number(count) };
}

/** See the file's comment; `gitDir` is the repository's (bare) directory. */
export async function borrowRepository(gitDir: string, request: BorrowRequest): Promise<Borrowed | null> {
  const specs = request.refspecs.map(parseRefspec);
  if (specs.length === 0 || specs.some((s) => s === null)) return null;
  const parsed = specs as Refspec[];
  const shallow = await access(join(gitDir, 'shallow')).then(
    () => true,
    () => false,
  );
  if (shallow) return null;
  const sources = parsed.map(({ src }) => (src.includes('*') ? `--glob=${src}` : src));
  const out = collectOutput();
  const code = await runProcess({
    command: 'sh',
    args: ['-c', SCRIPT, 'sh', String(request.depth), ...sources],
    cwd: gitDir,
    env: request.env,
    output: out,
    signal: request.signal,
  });
  if (code !== 0) return null;
  const { refs, count } = parseListing(out.text());
  if ([...refs.keys()].some((name) => name.startsWith('refs/tags/'))) return null;
  if (request.depth > 0 && (count === null || count >= request.depth)) return null;
  const mapped = mapRefs(parsed, refs);
  if (mapped === null) return null;
  return { objectsDir: join(gitDir, 'objects'), refs: mapped, shallow: null };
}
