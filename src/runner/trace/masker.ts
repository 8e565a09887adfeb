/**
 * Streaming secret masking for job logs. Exact secrets (masked variables) become `[MASKED]`; tokens
 * with a known prefix keep the prefix and the rest becomes `[MASKED]`. Works across write boundaries:
 * a tail that could still be the start of a secret (or a token still going on) is held back until
 * more data arrives or `flush()` is called.
 */

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
  /** Returns what can be emitted now (possibly empty). */
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

interface Needle {
  bytes: Buffer;
  /** Set for token prefixes: the bytes of the value after the prefix. */
  isValueByte?: (b: number) => boolean;
}

/** True when data[k..] is a proper prefix of `needle` (the match may continue in the next chunk). */
function partialAt(data: Buffer, k: number, needle: Buffer): boolean {
  const rest = data.length - k;
  return rest < needle.length && data.compare(needle, 0, rest, k) === 0;
}

export function createMasker(options: MaskerOptions): Masker {
  const secrets: Needle[] = [...new Set(options.secrets.filter((s) => s.length > 0))]
    .map((s) => ({ bytes: Buffer.from(s) }))
    .sort((a, b) => b.bytes.length - a.bytes.length);
  const prefixes: Needle[] = [
    ...[...new Set(options.tokenPrefixes.filter((p) => p.length > 0))]
      .slice(0, MAX_PREFIXES)
      .map((p) => ({ bytes: Buffer.from(p), isValueByte: isTokenByte })),
    ...urlParamPrefixes(),
  ];
  // secrets first, longest first: at equal positions the first needle wins
  const needles = [...secrets, ...prefixes];
  const longest = Math.max(0, ...needles.map((n) => n.bytes.length));
  const mask = Buffer.from(MASK);
  let pending = Buffer.alloc(0);

  /** The earliest full needle match at or after `pos`, reusing each needle's last search. */
  function nextMatch(data: Buffer, pos: number, cache: number[]): { at: number; needle: Needle } | null {
    let best: { at: number; needle: Needle } | null = null;
    needles.forEach((needle, n) => {
      let at = cache[n] ?? -2;
      if (at !== -1 && at < pos) {
        at = data.indexOf(needle.bytes, pos);
        cache[n] = at;
      }
      if (at !== -1 && (best === null || at < best.at)) best = { at, needle };
    });
    return best;
  }

  /** Where a held-back tail starts: the first position whose rest could begin a needle. */
  function tailStart(data: Buffer, pos: number): number {
    for (let k = Math.max(pos, data.length - longest + 1); k < data.length; k++) {
      if (needles.some((n) => partialAt(data, k, n.bytes))) return k;
    }
    return data.length;
  }

  function process(data: Buffer, final: boolean): Buffer {
    const out: Buffer[] = [];
    const cache: number[] = [];
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
        return Buffer.concat(out);
      }
      if (end > at + needle.bytes.length) {
        out.push(data.subarray(pos, at), needle.bytes, mask);
        pos = searchFrom = end;
      } else searchFrom = at + 1;
    }
    const hold = final ? data.length : tailStart(data, pos);
    out.push(data.subarray(pos, hold));
    pending = Buffer.from(data.subarray(hold));
    return Buffer.concat(out);
  }

  return {
    write: (chunk) => process(pending.length ? Buffer.concat([pending, chunk]) : Buffer.from(chunk), false),
    flush: () => process(pending, true),
  };
}
