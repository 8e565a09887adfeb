/** Tree listings, blobs and refs (branches, tags) for the repository API. */
import type { GitHostContext } from './context.js';
import { objectInfo } from './objects.js';
import { runGit } from './run-git.js';

export interface TreeEntry {
  id: string;
  name: string;
  type: 'tree' | 'blob' | 'commit';
  path: string;
  mode: string;
}

export interface BlobAt {
  blobId: string;
  size: number;
  mode: string;
  content: Buffer;
}

export interface RefHead {
  name: string;
  /** The commit the ref peels to. */
  sha: string;
  /** Unix seconds of that commit's committer date (for "updated" ordering). */
  committedAt: number;
}

export interface TagDetails extends RefHead {
  /** The annotated tag object's id, or the commit id for a lightweight tag. */
  target: string;
  annotated: boolean;
  /** Annotation message ('' for lightweight tags). */
  message: string;
  /** Tagger date (strict ISO 8601) of an annotated tag, else null. */
  createdAt: string | null;
}

const LIST_MAX_BUFFER = 64 * 1024 * 1024;
/** The largest blob the files API returns (base64 in JSON). */
export const MAX_BLOB_BYTES = 10 * 1024 * 1024;

/** Parses `git ls-tree -z` output; paths are prefixed with `prefix`. */
export function parseLsTree(output: string, prefix: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of output.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const [mode = '', type = '', id = ''] = record.slice(0, tab).split(' ');
    if (type !== 'tree' && type !== 'blob' && type !== 'commit') continue;
    const rel = record.slice(tab + 1);
    const path = prefix === '' ? rel : `${prefix}/${rel}`;
    entries.push({ id, name: path.slice(path.lastIndexOf('/') + 1), type, path, mode });
  }
  return entries;
}

/**
 * The entries of the tree at `path` ('' for the root) of commit `sha`: trees first, then blobs,
 * then submodules, as GitLab orders them. Null when `path` is not a directory of that commit.
 */
export async function listTree(
  ctx: GitHostContext,
  dir: string,
  sha: string,
  path: string,
  recursive: boolean,
): Promise<TreeEntry[] | null> {
  const info = await objectInfo(ctx, dir, path === '' ? `${sha}^{tree}` : `${sha}:${path}`);
  if (info?.type !== 'tree') return null;
  const args = ['ls-tree', '-z', ...(recursive ? ['-r', '-t'] : []), info.oid];
  const { stdout } = await runGit(ctx.git, dir, args, { maxBuffer: LIST_MAX_BUFFER });
  const entries = parseLsTree(stdout.toString('utf8'), path);
  const rank = { tree: 0, blob: 1, commit: 2 } as const;
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank[a.e.type] - rank[b.e.type] || a.i - b.i)
    .map(({ e }) => e);
}

/** The blob at `path` of commit `sha`, or null when it is missing or not a file. */
export async function blobAt(
  ctx: GitHostContext,
  dir: string,
  sha: string,
  path: string,
): Promise<BlobAt | null> {
  const slash = path.lastIndexOf('/');
  const parent = slash < 0 ? `${sha}^{tree}` : `${sha}:${path.slice(0, slash)}`;
  const { stdout: listing } = await runGit(
    ctx.git,
    dir,
    ['ls-tree', '-z', parent, '--', path.slice(slash + 1)],
    {
      okExitCodes: [128],
    },
  );
  const [entry] = parseLsTree(listing.toString('utf8'), '');
  if (entry?.type !== 'blob') return null;
  const info = await objectInfo(ctx, dir, entry.id);
  const size = info?.size ?? 0;
  if (size > MAX_BLOB_BYTES) return { blobId: entry.id, size, mode: entry.mode, content: Buffer.alloc(0) };
  const { stdout } = await runGit(ctx.git, dir, ['cat-file', 'blob', entry.id], {
    maxBuffer: MAX_BLOB_BYTES + 1,
  });
  return { blobId: entry.id, size, mode: entry.mode, content: stdout };
}

/** Branches (`refs/heads/`) or tags (`refs/tags/`) with the commit each peels to. */
export async function listRefHeads(ctx: GitHostContext, dir: string, prefix: string): Promise<RefHead[]> {
  return (await listRefs(ctx, dir, prefix)).map(({ name, sha, committedAt }) => ({ name, sha, committedAt }));
}

/** Tags with their annotation, sorted by name. */
export async function listTags(ctx: GitHostContext, dir: string): Promise<TagDetails[]> {
  return listRefs(ctx, dir, 'refs/tags/');
}

const REF_FORMAT =
  '--format=%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)%00' +
  '%(committerdate:unix)%00%(*committerdate:unix)%00%(taggerdate:iso-strict)%00%(contents)%1e';

async function listRefs(ctx: GitHostContext, dir: string, prefix: string): Promise<TagDetails[]> {
  const { stdout } = await runGit(ctx.git, dir, ['for-each-ref', '--sort=refname', REF_FORMAT, prefix], {
    maxBuffer: LIST_MAX_BUFFER,
  });
  const out: TagDetails[] = [];
  for (const record of stdout.toString('utf8').split('\x1e')) {
    const f = record.replace(/^\n/, '').split('\0');
    const [ref = '', oid = '', type = '', peeled = '', cdate = '', peeledDate = '', taggerDate = ''] = f;
    if (ref === '') continue;
    const annotated = type === 'tag';
    const sha = annotated ? peeled : oid;
    if ((annotated ? 'commit' : type) !== 'commit' || sha === '') continue;
    out.push({
      name: ref.slice(prefix.length),
      sha,
      committedAt: Number(annotated ? peeledDate : cdate) || 0,
      target: oid,
      annotated,
      message: annotated ? f.slice(7).join('\0').replace(/\n$/, '') : '',
      createdAt: annotated && taggerDate !== '' ? taggerDate : null,
    });
  }
  return out;
}

/** Names of the given branches whose heads are reachable from `target` (and not equal to it). */
export async function branchesMergedInto(
  ctx: GitHostContext,
  dir: string,
  target: string,
): Promise<Set<string>> {
  const { stdout } = await runGit(ctx.git, dir, [
    'for-each-ref',
    `--merged=${target}`,
    '--format=%(objectname) %(refname:strip=2)',
    'refs/heads/',
  ]);
  const names = new Set<string>();
  for (const line of stdout.toString('utf8').split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0 && line.slice(0, space) !== target) names.add(line.slice(space + 1));
  }
  return names;
}
