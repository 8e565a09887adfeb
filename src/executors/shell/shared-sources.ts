/**
 * Shared sources for a shell runner whose jobs all run on this host (`flotilla run`): a project's
 * objects are fetched once per (sha, refspecs, depth) into a bare store repository under the builds
 * directory, over the job's own `repo_url`, with exactly the refspecs and depth the job asks for
 * (or, from a repository on this host that such a fetch would copy as it is, borrowed from it
 * directly: see borrowed-sources.ts).
 * Each job's project directory stays a real git work tree: its objects come from the store through
 * git alternates, and its refs (the refspecs' destinations, the tags), shallow list and `origin`
 * URL are written as the job's own `git fetch` would have left them. Only `git checkout` and
 * `git clean` run per job, in one process. The store is never garbage-collected (`gc.auto = 0`), so
 * an object a work tree borrows stays there while the builds directory lives.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { JobOutput } from '../executor.js';
import { borrowRepository, parseRefs } from './borrowed-sources.js';
import { collectOutput, runProcess } from './process.js';
import { UnchangedWorkTrees } from './unchanged-work-tree.js';

/** The store's refs and shallow list right after a fetch. */
export interface StoreSnapshot {
  objectsDir: string;
  refs: ReadonlyMap<string, string>;
  /** Contents of the store's `shallow` file, or null when it has none. */
  shallow: string | null;
}

export interface StoreFetch {
  repoUrl: string;
  sha: string;
  depth: number;
  refspecs: readonly string[];
  env: NodeJS.ProcessEnv;
  output: JobOutput;
  signal: AbortSignal;
}

/** The coordinator's repository directory for a job's `repo_url`, when it is on this host. */
export type LocalRepositoryFor = (repoUrl: string) => string | undefined;

interface StoreState {
  tail: Promise<unknown>;
  fetched: Map<string, StoreSnapshot>;
}

/** The repository URL without credentials (the job token changes with every job). */
export function storeKeyOf(repoUrl: string): string {
  try {
    const url = new URL(repoUrl);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return repoUrl;
  }
}

/** One bare store repository per project, shared by every job of the runner. */
export class SharedSourceStore {
  /** The work trees a checkout left at a commit, which the next job there may take as they are. */
  readonly workTrees = new UnchangedWorkTrees();
  readonly #root: string;
  readonly #stores = new Map<string, StoreState>();
  readonly #localRepository: LocalRepositoryFor;

  /**
   * `localRepository` maps a job's `repo_url` to the coordinator's repository directory when the
   * coordinator runs on this host (`flotilla run`): the store then fetches from it over git's local
   * transport instead of smart HTTP, with the same refspecs and depth.
   */
  constructor(root: string, localRepository: LocalRepositoryFor = () => undefined) {
    this.#root = root;
    this.#localRepository = localRepository;
  }

  /**
   * Makes sure the store holds `sha` fetched with these refspecs and depth (fetching when no job
   * did so before), and returns the store's refs from that fetch. A failing fetch returns its exit
   * code; its output went to the job's log.
   */
  async fetch(request: StoreFetch): Promise<StoreSnapshot | { exitCode: number }> {
    const dir = join(
      this.#root,
      `${createHash('sha256').update(storeKeyOf(request.repoUrl)).digest('hex').slice(0, 16)}.git`,
    );
    let state = this.#stores.get(dir);
    if (!state) {
      state = { tail: Promise.resolve(), fetched: new Map() };
      this.#stores.set(dir, state);
    }
    const key = [request.sha, request.depth, ...request.refspecs].join(' ');
    const current = state;
    const result = current.tail.then(async () => {
      const known = current.fetched.get(key);
      if (known) return known;
      const fetched = await this.#fetchInto(dir, request);
      if ('refs' in fetched) current.fetched.set(key, fetched);
      return fetched;
    });
    current.tail = result.catch(() => undefined);
    return result;
  }

  async #git(dir: string, request: StoreFetch, args: string[], output = request.output): Promise<number> {
    return runProcess({ command: 'git', args, cwd: dir, env: request.env, output, signal: request.signal });
  }

  async #fetchInto(dir: string, request: StoreFetch): Promise<StoreSnapshot | { exitCode: number }> {
    const local = this.#localRepository(request.repoUrl);
    const borrowed = local === undefined ? null : await borrowRepository(local, request);
    if (borrowed) return borrowed;
    await mkdir(dir, { recursive: true });
    const init = await this.#git(dir, request, ['init', '-q', '--bare']);
    if (init !== 0) return { exitCode: init };
    const args = ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false', 'fetch', '--no-recurse-submodules'];
    const from = local ?? request.repoUrl;
    args.push('--prune', '--quiet', from, ...request.refspecs);
    if (request.depth > 0) args.push('--depth', String(request.depth));
    const fetched = await this.#git(dir, request, args);
    if (fetched !== 0) return { exitCode: fetched };
    const list = collectOutput();
    const listed = await this.#git(dir, request, ['for-each-ref', '--format=%(objectname) %(refname)'], list);
    if (listed !== 0) return { exitCode: listed };
    const shallow = await readFile(join(dir, 'shallow'), 'utf8').catch(() => null);
    return { objectsDir: join(dir, 'objects'), refs: parseRefs(list.text()), shallow };
  }
}

/**
 * The refs a `git fetch --prune` with these refspecs leaves in a repository: each refspec's
 * destination (a `*` destination maps every matching ref of the store), plus the tags git follows.
 * `prune` lists the wildcard destinations, under which any other ref is deleted.
 */
export function refsForJob(
  refspecs: readonly string[],
  store: ReadonlyMap<string, string>,
): { refs: Map<string, string>; prune: string[] } {
  const refs = new Map<string, string>();
  const prune: string[] = [];
  const take = (prefix: string): void => {
    for (const [name, sha] of store) if (name.startsWith(prefix)) refs.set(name, sha);
  };
  for (const spec of refspecs) {
    const dst = spec.replace(/^\+/, '').split(':')[1];
    if (!dst) continue;
    if (dst.endsWith('*')) {
      prune.push(dst.slice(0, -1));
      take(dst.slice(0, -1));
    } else {
      const sha = store.get(dst);
      if (sha) refs.set(dst, sha);
    }
  }
  take('refs/tags/');
  return { refs, prune };
}

function configValue(value: string): string {
  if (!/["\\#;]|^\s|\s$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * `.git/config` with `remote.origin.url` set to `url` (what `git remote set-url origin` does, or
 * `git remote add origin` when there is no such remote).
 */
export function withOriginUrl(config: string, url: string): string {
  const lines = config.split('\n');
  let inOrigin = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const section = /^\s*\[([^\]]*)\]/.exec(line);
    if (section) inOrigin = /^remote\s+"origin"$/.test((section[1] ?? '').trim());
    else if (inOrigin && /^\s*url\s*=/i.test(line)) {
      lines[i] = `\turl = ${configValue(url)}`;
      return lines.join('\n');
    }
  }
  const head = config.length === 0 || config.endsWith('\n') ? config : `${config}\n`;
  return `${head}[remote "origin"]\n\turl = ${configValue(url)}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`;
}

async function looseRefs(gitDir: string, prefix: string): Promise<string[]> {
  const entries = await readdir(join(gitDir, prefix), { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(gitDir.length + 1));
}

/** Points a work tree's repository at the store and writes what its own fetch would have written. */
export async function linkWorkTree(
  gitDir: string,
  snapshot: StoreSnapshot,
  refspecs: readonly string[],
  repoUrl: string,
): Promise<void> {
  await mkdir(join(gitDir, 'objects', 'info'), { recursive: true });
  await writeFile(join(gitDir, 'objects', 'info', 'alternates'), `${snapshot.objectsDir}\n`);
  const configFile = join(gitDir, 'config');
  const config = await readFile(configFile, 'utf8').catch(() => '');
  await writeFile(configFile, withOriginUrl(config, repoUrl));
  const { refs, prune } = refsForJob(refspecs, snapshot.refs);
  for (const prefix of prune) {
    for (const name of await looseRefs(gitDir, prefix)) {
      if (!refs.has(name)) await rm(join(gitDir, name), { force: true });
    }
  }
  for (const [name, sha] of refs) {
    await mkdir(dirname(join(gitDir, name)), { recursive: true });
    await writeFile(join(gitDir, name), `${sha}\n`);
  }
  if (snapshot.shallow === null) await rm(join(gitDir, 'shallow'), { force: true });
  else await writeFile(join(gitDir, 'shallow'), snapshot.shallow);
}
