/**
 * `git checkout -f -q SHA` then `git clean -ffdx` in a work tree that is already at SHA and holds
 * SHA's files unchanged does nothing but remove the untracked paths: no file written, no ref, no
 * reflog entry (HEAD does not move), no output but git clean's `Removing PATH` lines. With shared
 * sources (`flotilla run`) the same slot folders are checked out at the same commit job after job, so most of these two git processes (and the subshell around them) do
 * nothing but cost CPU. This module tells, without git, when that is so; whenever it cannot be
 * sure it answers no and git runs as before.
 *
 * The check is git's own ("is the index clean, is there anything untracked"), made stricter:
 *
 * - the index file is byte for byte the one git left right after the last checkout and clean at
 *   that commit in this folder (`record`), so its entries are the commit's tree;
 * - HEAD is detached at the commit, there is no `index.lock`, no `post-checkout` hook, and no
 *   setting that could change what checkout does (hooks path, includes, sparse checkout, split
 *   index, another object format, a case-insensitive or Unicode-precomposing file system) in the
 *   repository's, the user's or the system's git configuration (the system file as the job's git
 *   reads it), nor any `GIT_*` variable in git's environment that could change what git does there;
 * - the index is version 2 with no extension beyond the cache tree, the untracked cache and the
 *   entry-offset tables (a split or sparse index holds its entries elsewhere); every entry is a
 *   plain stage-0 file or symlink whose file type and executable bit match, and whose stat data
 *   matches the index (as git compares it) and is not racy; otherwise its content is hashed as a
 *   blob and compared with the entry's object id;
 * - every folder of the index is a folder in the work tree, not a symlink (through which the
 *   entries below would look clean while git sees them missing and puts the folder back);
 * - what the work tree holds (outside `.git`) beyond the index, ignored or not, is what
 *   `git clean -ffdx` would remove: those paths are listed as git names them (top-most folders
 *   with a trailing `/`, byte order), removed here and printed as git prints them (`Removing
 *   PATH`); a name git would quote leaves the whole work to git.
 *
 * Large work trees are left to git, which compares them faster.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  type BigIntStats,
} from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Past this many index entries git's own (threaded) comparison is left to do the work. */
const MAX_ENTRIES = 2000;
/** Settings that could make a checkout of the same commit do something. */
const RISKY_CONFIG =
  /hookspath|^include|sparse|objectformat|worktreeconfig|fsmonitor|splitindex|ignorecase|precomposeunicode/i;

/**
 * Whether a git config file names a section or key that RISKY_CONFIG matches. Only the names are
 * looked at, not the values (a remote URL holds the project's path, which may be `…/sparse-app`).
 */
function riskyConfig(text: string): boolean {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*([^\]]*)\]/.exec(line);
    const name = section ? (section[1] ?? '') : (line.split('=')[0] ?? '');
    if (RISKY_CONFIG.test(name.trim())) return true;
    // a key after a section header on the same line (`[core] hooksPath = x`)
    if (section && RISKY_CONFIG.test((line.slice(section[0].length).split('=')[0] ?? '').trim())) return true;
  }
  return false;
}
/**
 * `GIT_*` variables of git's environment that do not bear on a checkout of the commit HEAD is at
 * (transport, credentials, identity); any other (GIT_DIR, GIT_INDEX_FILE, GIT_CONFIG_*, GIT_TRACE,
 * ...) is a reason to run git.
 */
const HARMLESS_GIT_ENV =
  /^GIT_(TERMINAL_PROMPT|SSL_\w+|SSH\w*|ASKPASS|HTTP_\w+|PROXY_\w+|CURL_\w+|AUTHOR_\w+|COMMITTER_\w+)$/;
const DEFAULT_CLEAN = ['-ffdx'];

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

interface IndexEntry {
  path: string;
  ctimeS: number;
  ctimeNs: number;
  mtimeS: number;
  mtimeNs: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  oid: Buffer;
}

/**
 * Index extensions that do not change which entries the index has: the cache tree, the untracked
 * cache, and the end-of-entries and entry-offset tables (threaded loading). Any other (`link`, a
 * split index whose entries live in a shared index; `sdir`, a sparse index; `REUC`, resolve-undo
 * data a checkout drops; `FSMN`; anything newer) leaves the work to git.
 */
const KNOWN_EXTENSIONS = new Set(['TREE', 'UNTR', 'EOIE', 'IEOT']);
/** The size of the index's trailing checksum (SHA-1; SHA-256 repositories are left to git). */
const INDEX_HASH_BYTES = 20;

/** The entries of a version-2 index without conflicts, special flags or unknown extensions, or null. */
export function parseIndex(data: Buffer): IndexEntry[] | null {
  if (data.length < 12 + 20 || data.toString('latin1', 0, 4) !== 'DIRC') return null;
  if (data.readUInt32BE(4) !== 2) return null;
  const count = data.readUInt32BE(8);
  if (count > MAX_ENTRIES) return null;
  const entries: IndexEntry[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 62 > data.length) return null;
    const flags = data.readUInt16BE(at + 60);
    // assume-valid, extended flags or a merge stage: leave it to git
    if ((flags & 0xf000) !== 0) return null;
    const end = data.indexOf(0, at + 62);
    if (end < 0) return null;
    const path = data.toString('utf8', at + 62, end);
    entries.push({
      path,
      ctimeS: data.readUInt32BE(at),
      ctimeNs: data.readUInt32BE(at + 4),
      mtimeS: data.readUInt32BE(at + 8),
      mtimeNs: data.readUInt32BE(at + 12),
      ino: data.readUInt32BE(at + 20),
      mode: data.readUInt32BE(at + 24),
      uid: data.readUInt32BE(at + 28),
      gid: data.readUInt32BE(at + 32),
      size: data.readUInt32BE(at + 36),
      oid: data.subarray(at + 40, at + 60),
    });
    // 62 bytes, the path, then 1 to 8 NULs up to a multiple of 8
    at += (62 + (end - (at + 62)) + 8) & ~7;
  }
  // extensions (4-byte signature, 4-byte size, data) up to the checksum
  const extensionsEnd = data.length - INDEX_HASH_BYTES;
  while (at < extensionsEnd) {
    if (at + 8 > extensionsEnd) return null;
    if (!KNOWN_EXTENSIONS.has(data.toString('latin1', at, at + 4))) return null;
    at += 8 + data.readUInt32BE(at + 4);
  }
  if (at !== extensionsEnd) return null;
  return entries;
}

const NS = 1_000_000_000n;
const secondsOf = (ns: bigint): number => Number(ns / NS);
const nanosOf = (ns: bigint): number => Number(ns % NS);

/** Whether the blob of `entry` is `content` (sha1 of `blob <size>\0<content>`). */
function sameBlob(entry: IndexEntry, content: Buffer): boolean {
  const hash = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest();
  return hash.equals(entry.oid);
}

/** Whether the file at `file` is what `entry` says it is, as `git checkout -f` would judge it. */
function entryClean(entry: IndexEntry, file: string, indexMtimeNs: bigint): boolean {
  let st: BigIntStats;
  try {
    st = lstatSync(file, { bigint: true });
  } catch {
    return false;
  }
  const type = entry.mode & S_IFMT;
  const fileType = Number(st.mode) & S_IFMT;
  if (type !== fileType || (type !== S_IFREG && type !== S_IFLNK)) return false;
  if (type === S_IFREG && (entry.mode & 0o100) !== (Number(st.mode) & 0o100)) return false;
  const sizeMatches = entry.size === Number(st.size & 0xffffffffn);
  if (!sizeMatches && entry.size !== 0) return false;
  const statMatches =
    sizeMatches &&
    entry.mtimeS === secondsOf(st.mtimeNs) &&
    entry.mtimeNs === nanosOf(st.mtimeNs) &&
    entry.ctimeS === secondsOf(st.ctimeNs) &&
    entry.ctimeNs === nanosOf(st.ctimeNs) &&
    entry.ino === Number(st.ino & 0xffffffffn) &&
    entry.uid === Number(st.uid) &&
    entry.gid === Number(st.gid);
  // racy: written in the same clock tick as the index, so the stat data cannot vouch for it
  if (statMatches && st.mtimeNs < indexMtimeNs) return true;
  try {
    const content = type === S_IFLNK ? Buffer.from(readlinkSync(file, 'buffer')) : readFileSync(file);
    return sameBlob(entry, content);
  } catch {
    return false;
  }
}

/** A path git prints as it is (core.quotePath would quote anything else). */
const PLAIN_PATH = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The top-most paths outside `.git` that the index does not list, as `git clean -ffdx` names them
 * (folders with a trailing `/`, in git's order: byte order of those names), or null when one of
 * them is a name git would quote.
 */
function untrackedPaths(
  root: string,
  files: ReadonlySet<string>,
  dirs: ReadonlySet<string>,
): string[] | null {
  const found: string[] = [];
  const pending: string[] = [''];
  while (pending.length > 0) {
    const rel = pending.pop() ?? '';
    for (const dirent of readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true })) {
      const path = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      if (path === '.git') continue;
      if (dirent.isDirectory()) {
        if (dirs.has(path)) pending.push(path);
        else found.push(`${path}/`);
      } else if (dirs.has(path)) {
        // a tracked folder replaced by a symlink (or a file): the entries below it were looked at
        // through the link, git sees them as missing and puts the folder back
        return null;
      } else if (!files.has(path)) found.push(path);
    }
  }
  if (!found.every((path) => PLAIN_PATH.test(path))) return null;
  return found.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Whether a `section.subsection.key` name from `git config --list` is one RISKY_CONFIG names. */
function riskyName(name: string): boolean {
  const section = name.slice(0, name.indexOf('.'));
  const key = name.slice(name.lastIndexOf('.') + 1);
  return RISKY_CONFIG.test(section) || RISKY_CONFIG.test(key);
}

/**
 * Whether git's system configuration sets nothing RISKY_CONFIG names. Its file is where git was
 * built to look (`$prefix/etc/gitconfig`, `/etc/gitconfig` only for a `/usr` prefix, or relative
 * to the binary with a runtime prefix), so the git on `path` is asked which names it reads there
 * (`git config --list --show-scope`): once per `UnchangedWorkTrees` (per process), right after
 * the first checkout it records, not per job. A missing system file is no error there; a git that
 * cannot answer (older than 2.26, broken configuration) leaves every checkout to git.
 */
async function systemConfigIsSafe(path: string | undefined): Promise<boolean> {
  try {
    const { stdout } = await execFileAsync('git', ['config', '--list', '--show-scope', '--name-only', '-z'], {
      cwd: tmpdir(),
      env: { PATH: path ?? '', LC_ALL: 'C', GIT_CONFIG_GLOBAL: '/dev/null' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    const fields = stdout.split('\0');
    for (let i = 0; i + 1 < fields.length; i += 2)
      if (fields[i] === 'system' && riskyName(fields[i + 1] ?? '')) return false;
    return true;
  } catch {
    return false;
  }
}

const userConfigSafe = new Map<string, boolean>();

/** The user's git configuration sets nothing that RISKY_CONFIG names (read once per HOME and XDG_CONFIG_HOME). */
function userConfigIsSafe(env: NodeJS.ProcessEnv): boolean {
  const home = env['HOME'] ?? homedir();
  const xdg = env['XDG_CONFIG_HOME'] || join(home, '.config');
  const key = `${home}\0${xdg}`;
  const known = userConfigSafe.get(key);
  if (known !== undefined) return known;
  const files = [join(xdg, 'git', 'config'), join(home, '.gitconfig')];
  const safe = files.every((file) => !riskyConfig(readText(file)));
  userConfigSafe.set(key, safe);
  return safe;
}

export interface CheckoutRequest {
  sha: string;
  cleanArgs: readonly string[];
  env: NodeJS.ProcessEnv;
}

/**
 * Remembers, per project folder, the index git left after a successful checkout and clean at a
 * commit, and answers whether a new checkout and clean of that commit there would change nothing.
 */
export class UnchangedWorkTrees {
  readonly #recorded = new Map<string, { sha: string; index: Buffer }>();
  /** The PATH of the git that made the first recorded checkout (every job's git comes from it). */
  #gitPath: string | undefined;
  /**
   * Whether that git's system configuration is safe. Asked (one git process) at the second
   * recorded checkout: a run with one checkout (a one-job pipeline) never takes a folder as it is,
   * so it asks nothing. Until the answer is in, git runs.
   */
  #systemConfigSafe: boolean | undefined;
  #systemConfigAnswer: Promise<void> | undefined;
  #records = 0;

  /**
   * Call right after `git checkout -f -q SHA` and `git clean` succeeded in `projectDir`, with
   * git's environment, before anything else runs there.
   */
  async record(projectDir: string, sha: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
    this.#gitPath ??= env['PATH'];
    if (this.#records++ > 0) await this.settled();
    const index = await readFile(join(projectDir, '.git', 'index')).catch(() => null);
    if (index) this.#recorded.set(projectDir, { sha, index });
    else this.#recorded.delete(projectDir);
  }

  forget(projectDir: string): void {
    this.#recorded.delete(projectDir);
  }

  /**
   * What checking out and cleaning `request.sha` in `projectDir` would do, when it would do no
   * more than remove untracked paths: those paths (top-most, as `git clean` names them, in its
   * order; empty when nothing would change). Null when git must run.
   */
  untrackedOnly(projectDir: string, request: CheckoutRequest): string[] | null {
    const recorded = this.#recorded.get(projectDir);
    if (!recorded || recorded.sha !== request.sha) return null;
    if (request.cleanArgs.join(' ') !== DEFAULT_CLEAN.join(' ')) return null;
    if (Object.keys(request.env).some((key) => key.startsWith('GIT_') && !HARMLESS_GIT_ENV.test(key)))
      return null;
    // the system configuration as the git that made the recorded checkouts reads it (every job's
    // git comes from the same inherited PATH)
    if (this.#systemConfigSafe !== true || !userConfigIsSafe(request.env)) return null;
    const gitDir = join(projectDir, '.git');
    try {
      if (readText(join(gitDir, 'HEAD')) !== `${request.sha}\n`) return null;
      if (riskyConfig(readText(join(gitDir, 'config')))) return null;
      if (existsSync(join(gitDir, 'index.lock')) || existsSync(join(gitDir, 'hooks', 'post-checkout')))
        return null;
      const indexFile = join(gitDir, 'index');
      const index = readFileSync(indexFile);
      if (!index.equals(recorded.index)) return null;
      const entries = parseIndex(index);
      if (!entries) return null;
      const indexMtimeNs = statSync(indexFile, { bigint: true }).mtimeNs;
      const files = new Set<string>();
      const dirs = new Set<string>();
      for (const entry of entries) {
        if (!entryClean(entry, join(projectDir, entry.path), indexMtimeNs)) return null;
        files.add(entry.path);
        for (let slash = entry.path.indexOf('/'); slash > 0; slash = entry.path.indexOf('/', slash + 1))
          dirs.add(entry.path.slice(0, slash));
      }
      return untrackedPaths(projectDir, files, dirs);
    } catch {
      return null;
    }
  }

  /** Asks about git's system configuration (once; see `#systemConfigSafe`); resolves once answered. */
  settled(): Promise<void> {
    this.#systemConfigAnswer ??= systemConfigIsSafe(this.#gitPath).then((safe) => {
      this.#systemConfigSafe = safe;
    });
    return this.#systemConfigAnswer;
  }

  /** True only when checking out and cleaning `request.sha` in `projectDir` would change nothing. */
  unchanged(projectDir: string, request: CheckoutRequest): boolean {
    return this.untrackedOnly(projectDir, request)?.length === 0;
  }
}

/**
 * Removes `paths` (from `untrackedOnly`) under `projectDir` in order, printing `Removing PATH` for
 * each as `git clean` does once it removed it. False at the first one that cannot be removed:
 * git then runs and does the rest (its own output for what is left).
 */
export async function removeUntracked(
  projectDir: string,
  paths: readonly string[],
  output: { write(chunk: string): void },
): Promise<boolean> {
  for (const path of paths) {
    try {
      await rm(join(projectDir, path), { recursive: true });
    } catch {
      return false;
    }
    output.write(`Removing ${path}\n`);
  }
  return true;
}
