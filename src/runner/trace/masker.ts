/**
 * Streaming secret masking for job logs. Exact secrets (masked variables) become `[MASKED]`; tokens
 * with a known prefix keep the prefix and the rest becomes `[MASKED]`. Works across write boundaries:
 * a tail that could still be the start of a secret (or a token still going on) is held back until
 * more data arrives or `flush()` is called.
 */

import { createByteStats, firstMatch, type AnchorGroup, type Match, type Needle } from './anchor-scan.js';

export const MASK = '[MASKED]';

/** gitlab-runner's default token prefixes (glpat- always, the rest with FF_MASK_ALL_DEFAULT_TOKENS). */
export const DEFAULT_TOKEN_PREFIXES = [
  'glpat-',
  'gloas-',
  'gldt-',
  'glrt-',
  'glcbt-',
  'glrtr-',
  'glptt-',
  'glft-',
  'glimt-',
  'glagent-',
  'glsoat-',
  'glffct-',
  '_gitlab_session=',
  'gltok-',
] as const;
const MAX_PREFIXES = 15;

/** URL query parameters whose values gitlab-runner masks (matched as written and in lower case). */
export const SENSITIVE_URL_PARAMS = [
  'private_token',
  'authenticity_token',
  'rss_token',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
] as const;
const MAX_TOKEN_HOLD = 4096;

export interface MaskerOptions {
  secrets: readonly string[];
  tokenPrefixes: readonly string[];
}

export interface Masker {
  /**
   * Returns what can be emitted now (possibly empty): a view of `chunk` or of the masker's own
   * buffer, valid until the next call (store or copy it at once).
   */
  write(chunk: Uint8Array): Buffer;
  /** Returns everything still held back, masked. */
  flush(): Buffer;
}

/** A URL parameter value runs until `&`, whitespace, a quote or `#`. */
function isParamValueByte(b: number): boolean {
  return b > 0x20 && b !== 0x26 && b !== 0x22 && b !== 0x27 && b !== 0x23 && b !== 0x7f;
}

function urlParamPrefixes(): { bytes: Buffer; isValueByte: (b: number) => boolean }[] {
  const names = SENSITIVE_URL_PARAMS.flatMap((p) => [p, p.toLowerCase()]);
  return [...new Set(names)].flatMap((name) =>
    ['?', '&'].map((sep) => ({ bytes: Buffer.from(`${sep}${name}=`), isValueByte: isParamValueByte })),
  );
}

function isTokenByte(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x2d ||
    b === 0x5f ||
    b === 0x2e
  );
}

/** True when data[k..] is a proper prefix of `needle` (the match may continue in the next chunk). */
function partialAt(data: Buffer, k: number, needle: Buffer): boolean {
  const rest = data.length - k;
  return rest < needle.length && data.compare(needle, 0, rest, k) === 0;
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function joined(parts: Buffer[]): Buffer {
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * The returned buffers may be views of the written chunk (no copy when nothing is masked): the
 * caller must not reuse a chunk's memory after writing it.
 */
/** Secrets first, longest first, then token prefixes, then URL parameters: at equal positions the first wins. */
function buildNeedles(options: MaskerOptions): Needle[] {
  let order = 0;
  const secrets: Needle[] = [...new Set(options.secrets.filter((s) => s.length > 0))]
    .map((s) => Buffer.from(s))
    .sort((a, b) => b.length - a.length)
    .map((bytes) => ({ bytes, order: order++ }));
  const prefixes: Needle[] = [
    ...[...new Set(options.tokenPrefixes.filter((p) => p.length > 0))]
      .slice(0, MAX_PREFIXES)
      .map((p) => ({ bytes: Buffer.from(p), order: order++, isValueByte: isTokenByte })),
    ...urlParamPrefixes().map((p) => ({ ...p, order: order++ })),
  ];
  return [...secrets, ...prefixes];
}

/**
 * Joins the held-back tail and the next chunk in one buffer that is grown, never shrunk: no
 * allocation per write once it is large enough. The result is valid until the next join.
 */
function createJoiner(): (head: Buffer, chunk: Uint8Array) => Buffer {
  let joinBuffer = Buffer.alloc(0);
  return (head, chunk) => {
    const length = head.length + chunk.byteLength;
    if (joinBuffer.length < length)
      joinBuffer = Buffer.allocUnsafeSlow(Math.max(length, joinBuffer.length * 2));
    head.copy(joinBuffer, 0);
    joinBuffer.set(chunk, head.length);
    return joinBuffer.subarray(0, length);
  };
}

export function createMasker(options: MaskerOptions): Masker {
  const needles = buildNeedles(options);
  const stats = createByteStats();
  let groups: AnchorGroup[] = stats.plan(needles);
  const byFirstByte = new Map<number, Buffer[]>();
  for (const n of needles) {
    const first = n.bytes[0] ?? 0;
    byFirstByte.set(first, [...(byFirstByte.get(first) ?? []), n.bytes]);
  }
  const longest = Math.max(0, ...needles.map((n) => n.bytes.length));
  const mask = Buffer.from(MASK);
  let pending = Buffer.alloc(0);
  const join = createJoiner();

  /** The earliest full needle match at or after `pos`, reusing each group's last search. */
  function nextMatch(data: Buffer, pos: number, cache: (Match | null | undefined)[]): Match | null {
    let best: Match | null = null;
    groups.forEach((group, g) => {
      let hit = cache[g];
      if (hit === undefined || (hit !== null && hit.at < pos)) {
        hit = firstMatch(data, group, pos);
        cache[g] = hit;
      }
      if (hit && (!best || hit.at < best.at || (hit.at === best.at && hit.needle.order < best.needle.order)))
        best = hit;
    });
    return best;
  }

  /** Where a held-back tail starts: the first position whose rest could begin a needle. */
  function tailStart(data: Buffer, pos: number): number {
    for (let k = Math.max(pos, data.length - longest + 1); k < data.length; k++) {
      const candidates = byFirstByte.get(data[k] ?? 0);
      if (candidates?.some((bytes) => partialAt(data, k, bytes))) return k;
    }
    return data.length;
  }

  function process(data: Buffer, final: boolean): Buffer {
    const out: Buffer[] = [];
    const cache: (Match | null | undefined)[] = [];
    let pos = 0;
    let searchFrom = 0;
    for (;;) {
      const match = nextMatch(data, searchFrom, cache);
      if (!match) break;
      const { at, needle } = match;
      if (!needle.isValueByte) {
        out.push(data.subarray(pos, at), mask);
        pos = searchFrom = at + needle.bytes.length;
        continue;
      }
      let end = at + needle.bytes.length;
      while (end < data.length && needle.isValueByte(data[end] ?? 0)) end++;
      if (end === data.length && !final && end - at < MAX_TOKEN_HOLD) {
        out.push(data.subarray(pos, at));
        pending = Buffer.from(data.subarray(at));
        return joined(out);
      }
      if (end > at + needle.bytes.length) {
        out.push(data.subarray(pos, at), needle.bytes, mask);
        pos = searchFrom = end;
      } else searchFrom = at + 1;
    }
    const hold = final ? data.length : tailStart(data, pos);
    out.push(data.subarray(pos, hold));
    pending = Buffer.from(data.subarray(hold));
    return joined(out);
  }

  return {
    write(chunk) {
      const data = pending.length ? join(pending, chunk) : asBuffer(chunk);
      if (stats.observe(data)) groups = stats.plan(needles);
      return process(data, false);
    },
    flush: () => process(pending, true),
  };
}
