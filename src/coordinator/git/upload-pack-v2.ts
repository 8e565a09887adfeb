import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FlotillaError } from '../../shared/errors.js';
import type { GitHostContext } from './context.js';
import { chompedText, FLUSH_PKT, parsePktLines, pktLine } from './pkt-line.js';
import { runGit } from './run-git.js';

/**
 * Git protocol v2's upload-pack answers that need no `upload-pack` process: the capability
 * advertisement (`GET info/refs`) and the `ls-refs` command. Both must be byte for byte what
 * `git upload-pack --stateless-rpc` writes; anything this module does not reproduce exactly
 * (hidden refs, `lsrefs.unborn`, an unborn or detached HEAD, a tag of a tag, an unknown argument)
 * answers null so that the caller runs git instead.
 */

/** What upload-pack advertises for one repository, and whether `ls-refs` may be answered here. */
export interface UploadPackInfo {
  /** The whole advertisement: `version 2`, the capabilities, a flush packet. */
  advertisement: Buffer;
  /** Advertised capabilities (commands included), by key; a capability without value maps to null. */
  capabilities: Map<string, string | null>;
  /** False when the repository's config changes what `ls-refs` lists (hidden refs, unborn). */
  lsRefsHere: boolean;
}

/** Caches each repository's `UploadPackInfo` while its config file is unchanged. */
export interface UploadPackInfoCache {
  get(ctx: GitHostContext, dir: string): Promise<UploadPackInfo>;
}

const LS_REFS_CONFIG = '^(uploadpack|transfer)\\.hiderefs$|^lsrefs\\.unborn$';

export function createUploadPackInfoCache(): UploadPackInfoCache {
  const cache = new Map<string, { key: string; info: Promise<UploadPackInfo> }>();
  return {
    async get(ctx, dir) {
      const config = await stat(join(dir, 'config'));
      const key = `${config.ino}:${config.size}:${config.mtimeMs}`;
      const hit = cache.get(dir);
      if (hit?.key === key) return hit.info;
      const info = readUploadPackInfo(ctx, dir);
      cache.set(dir, { key, info });
      info.catch(() => {
        if (cache.get(dir)?.info === info) cache.delete(dir);
      });
      return info;
    },
  };
}

async function readUploadPackInfo(ctx: GitHostContext, dir: string): Promise<UploadPackInfo> {
  const [advertised, config] = await Promise.all([
    runGit(ctx.git, null, ['upload-pack', '--stateless-rpc', '--advertise-refs', dir], {
      env: { GIT_PROTOCOL: 'version=2' },
    }),
    runGit(ctx.git, dir, ['config', '--get-regexp', LS_REFS_CONFIG], { okExitCodes: [1] }),
  ]);
  const advertisement = advertised.stdout;
  const capabilities = parseCapabilities(advertisement);
  if (capabilities === null) {
    throw new FlotillaError('FLO_ERR_GIT', 'git upload-pack wrote no protocol v2 advertisement', {
      details: { command: 'upload-pack' },
    });
  }
  return {
    advertisement,
    capabilities,
    lsRefsHere: config.stdout.length === 0,
  };
}

/** The advertised capabilities; null unless `version 2`, data lines, and a final flush. */
function parseCapabilities(advertisement: Buffer): Map<string, string | null> | null {
  const lines = parsePktLines(advertisement);
  const first = lines?.[0];
  if (!lines || first?.kind !== 'data' || chompedText(first.payload) !== 'version 2') return null;
  if (lines.at(-1)?.kind !== 'flush') return null;
  const capabilities = new Map<string, string | null>();
  for (const line of lines.slice(1, -1)) {
    if (line.kind !== 'data') return null;
    const text = chompedText(line.payload);
    const eq = text.indexOf('=');
    if (eq === -1) capabilities.set(text, null);
    else capabilities.set(text.slice(0, eq), text.slice(eq + 1));
  }
  return capabilities;
}

/** The arguments of one `ls-refs` request. */
export interface LsRefsRequest {
  peel: boolean;
  symrefs: boolean;
  unborn: boolean;
  prefixes: string[];
}

/** Client capabilities upload-pack accepts in a request when it advertised them. */
const CLIENT_CAPABILITIES = new Set(['agent', 'session-id', 'server-option', 'object-format']);
/** Above this many prefixes upload-pack lists every ref; left to git. */
const MAX_PREFIXES = 1000;

/** Parses a v2 request body; null unless it is an `ls-refs` request this module answers as git would. */
export function parseLsRefsRequest(body: Buffer, info: UploadPackInfo): LsRefsRequest | null {
  const lines = parsePktLines(body);
  const delim = lines?.findIndex((l) => l.kind === 'delim') ?? -1;
  if (!lines || delim === -1 || lines.at(-1)?.kind !== 'flush') return null;
  const head = lines.slice(0, delim);
  const args = lines.slice(delim + 1, -1);
  if (!head.every((l) => l.kind === 'data') || !args.every((l) => l.kind === 'data')) return null;
  const texts = (ls: typeof lines): string[] =>
    ls.map((l) => (l.kind === 'data' ? chompedText(l.payload) : ''));
  if (!validHead(texts(head), info)) return null;
  return parseArgs(texts(args));
}

function validHead(lines: string[], info: UploadPackInfo): boolean {
  if (lines.filter((l) => l.startsWith('command=')).length !== 1 || !lines.includes('command=ls-refs')) {
    return false;
  }
  return lines.every((line) => {
    if (line === 'command=ls-refs') return true;
    const eq = line.indexOf('=');
    const key = eq === -1 ? line : line.slice(0, eq);
    if (!CLIENT_CAPABILITIES.has(key) || !info.capabilities.has(key)) return false;
    return key !== 'object-format' || info.capabilities.get(key) === line.slice(eq + 1);
  });
}

function parseArgs(lines: string[]): LsRefsRequest | null {
  const request: LsRefsRequest = { peel: false, symrefs: false, unborn: false, prefixes: [] };
  for (const line of lines) {
    if (line === 'peel') request.peel = true;
    else if (line === 'symrefs') request.symrefs = true;
    else if (line === 'unborn') request.unborn = true;
    else if (line.startsWith('ref-prefix ')) request.prefixes.push(line.slice('ref-prefix '.length));
    else return null;
  }
  return request.prefixes.length < MAX_PREFIXES ? request : null;
}

interface RefEntry {
  name: string;
  oid: string;
  /** The object a tag ref peels to; empty for a ref to a non-tag object. */
  peeled: string;
  /** The ref a symbolic ref points at; empty for a plain ref. */
  symref: string;
}

const REF_FORMAT = '%(objectname) %(objecttype) %(*objectname) %(*objecttype) %(symref) %(refname)';

/** The `ls-refs` answer (ref lines and a flush packet), or null to leave the request to git. */
export async function answerLsRefs(
  ctx: GitHostContext,
  dir: string,
  request: LsRefsRequest,
): Promise<Buffer | null> {
  const headFile = await readFile(join(dir, 'HEAD'), 'utf8');
  const headTarget = /^ref: (refs\/\S+)\n?$/.exec(headFile)?.[1];
  if (headTarget === undefined) return null;
  const patterns = refPatterns(request.prefixes, headTarget);
  const listed = await runGit(ctx.git, dir, ['for-each-ref', `--format=${REF_FORMAT}`, ...patterns]);
  const refs = parseRefs(listed.stdout.toString('utf8'));
  const head = headEntry(headTarget, refs);
  if (refs === null || head === null) return null;
  const lines: string[] = [];
  // upload-pack sends HEAD first, then every ref in name order.
  for (const ref of [head, ...refs]) {
    if (matches(request.prefixes, ref.name)) lines.push(refLine(ref, request));
  }
  try {
    return Buffer.concat([...lines.map((l) => pktLine(l)), FLUSH_PKT]);
  } catch {
    return null;
  }
}

function parseRefs(text: string): RefEntry[] | null {
  const refs: RefEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [oid, , peeled, peeledType, symref, name, ...rest] = line.split(' ');
    // A tag of a tag peels further than for-each-ref's one level.
    if (name === undefined || rest.length > 0 || peeledType === 'tag') return null;
    refs.push({ name, oid: oid ?? '', peeled: peeled ?? '', symref: symref ?? '' });
  }
  // upload-pack names a symbolic ref's final target, for-each-ref the next one: answered here only
  // when that target is listed and is not itself symbolic.
  const plain = new Set(refs.filter((ref) => ref.symref === '').map((ref) => ref.name));
  return refs.every((ref) => ref.symref === '' || plain.has(ref.symref)) ? refs : null;
}

/** Characters a ref name cannot hold and for-each-ref patterns treat as wildcards. */
const GLOB_CHARS = /[*?[\\]/;

/**
 * for-each-ref patterns listing at least every ref that starts with one of `prefixes`, and the
 * ref HEAD points at (the answer filters to the exact prefixes). for-each-ref matches a pattern as
 * a path: `P*` covers names that continue P within its last component, `P*` + `/**` deeper names.
 * No patterns (every ref) when there are no prefixes or a prefix holds no `/` (it may match all).
 */
export function refPatterns(prefixes: readonly string[], headTarget: string): string[] {
  const usable = prefixes.length > 0 && prefixes.every((p) => p.includes('/') && !GLOB_CHARS.test(p));
  if (!usable) return [];
  return [...prefixes.flatMap((p) => [`${p}*`, `${p}*/**`]), headTarget];
}

/** HEAD when it is a symbolic ref to a plain ref that exists; null otherwise (left to git). */
function headEntry(headTarget: string, refs: RefEntry[] | null): RefEntry | null {
  const target = refs?.find((ref) => ref.name === headTarget);
  if (!target || target.symref !== '') return null;
  return { name: 'HEAD', oid: target.oid, peeled: target.peeled, symref: target.name };
}

function matches(prefixes: string[], name: string): boolean {
  return prefixes.length === 0 || prefixes.some((prefix) => name.startsWith(prefix));
}

function refLine(ref: RefEntry, request: LsRefsRequest): string {
  let line = `${ref.oid} ${ref.name}`;
  if (request.symrefs && ref.symref !== '') line += ` symref-target:${ref.symref}`;
  if (request.peel && ref.peeled !== '') line += ` peeled:${ref.peeled}`;
  return `${line}\n`;
}
