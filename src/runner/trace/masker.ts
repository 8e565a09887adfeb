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

/** True when data[i..] is a proper prefix of `needle` (the match may continue in the next chunk). */
function partialAt(data: Buffer, i: number, needle: Buffer): boolean {
  const rest = data.length - i;
  return rest < needle.length && data.subarray(i).equals(needle.subarray(0, rest));
}

type Step = { kind: 'emit'; bytes: Buffer; next: number } | { kind: 'hold' } | { kind: 'none' };

export function createMasker(options: MaskerOptions): Masker {
  const secrets = [...new Set(options.secrets.filter((s) => s.length > 0))]
    .map((s) => Buffer.from(s))
    .sort((a, b) => b.length - a.length);
  const prefixes = [...new Set(options.tokenPrefixes.filter((p) => p.length > 0))]
    .slice(0, MAX_PREFIXES)
    .map((p) => Buffer.from(p));
  const firstBytes = new Set([...secrets, ...prefixes].map((b) => b[0]));
  const mask = Buffer.from(MASK);
  let pending = Buffer.alloc(0);

  function secretAt(data: Buffer, i: number, final: boolean): Step {
    for (const secret of secrets) {
      if (data.length - i >= secret.length && data.subarray(i, i + secret.length).equals(secret)) {
        return { kind: 'emit', bytes: mask, next: i + secret.length };
      }
      if (!final && partialAt(data, i, secret)) return { kind: 'hold' };
    }
    return { kind: 'none' };
  }

  function tokenAt(data: Buffer, i: number, final: boolean): Step {
    for (const prefix of prefixes) {
      if (!final && partialAt(data, i, prefix)) return { kind: 'hold' };
      if (data.length - i < prefix.length || !data.subarray(i, i + prefix.length).equals(prefix)) continue;
      let j = i + prefix.length;
      while (j < data.length && isTokenByte(data[j] ?? 0)) j++;
      if (j === data.length && !final && j - i < MAX_TOKEN_HOLD) return { kind: 'hold' };
      if (j > i + prefix.length) return { kind: 'emit', bytes: Buffer.concat([prefix, mask]), next: j };
    }
    return { kind: 'none' };
  }

  function process(data: Buffer, final: boolean): Buffer {
    const out: Buffer[] = [];
    let start = 0;
    let i = 0;
    while (i < data.length) {
      if (!firstBytes.has(data[i])) {
        i++;
        continue;
      }
      let step = secretAt(data, i, final);
      if (step.kind === 'none') step = tokenAt(data, i, final);
      if (step.kind === 'none') {
        i++;
        continue;
      }
      out.push(data.subarray(start, i));
      if (step.kind === 'hold') {
        pending = Buffer.from(data.subarray(i));
        return Buffer.concat(out);
      }
      out.push(step.bytes);
      i = start = step.next;
    }
    out.push(data.subarray(start));
    pending = Buffer.alloc(0);
    return Buffer.concat(out);
  }

  return {
    write: (chunk) => process(pending.length ? Buffer.concat([pending, chunk]) : Buffer.from(chunk), false),
    flush: () => process(pending, true),
  };
}
