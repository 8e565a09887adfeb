/**
 * Puts GitLab Runner's `FF_TIMESTAMPS` header (see shared/log-timestamps) before every line of a
 * job log, as gitlab-runner's timestamper does:
 * - each `\n` ends an entry; the header carries the time the entry's first byte arrived;
 * - a write that leaves a line unfinished but holds a `\r` (a progress bar) is sent at once as an
 *   entry of its own, ended by an added `\n`, and the next entry is marked `+` (continuation);
 * - an unfinished line is held back up to 8 KiB; past that it is sent the same way;
 * - `close()` ends a held-back line with an added `\n`.
 * It sits after the masker, so what it sees is already masked and a secret split across writes
 * never reaches the log (the masker holds a possible secret's start back until it knows).
 */
import type { Clock } from '../../shared/clock.js';
import { timestampHeader, type StreamType } from '../../shared/log-timestamps.js';

/** gitlab-runner's buffer for a line without a newline (not a line length limit). */
export const HOLD_BYTES = 8 * 1024;

const NL = 0x0a;
const CR = 0x0d;
const NEWLINE = Buffer.from('\n');

export interface LinePrefixer {
  /** Returns the bytes ready to be stored (possibly empty). */
  write(chunk: Buffer): Buffer;
  /** Returns the held-back line, ended by a newline (empty when nothing is held). */
  close(): Buffer;
  /** `text` (whole lines) with a header on each line, for lines written outside the stream. */
  stamp(text: string): Buffer;
}

export interface LinePrefixerOptions {
  clock: Clock;
  /** gitlab-runner's stream number (0 for the runner's own lines, 1 for the job's output). */
  streamId?: number;
  type?: StreamType;
}

/** Where the `\n`s of `chunk` are. */
function newlines(chunk: Buffer): number[] {
  const at: number[] = [];
  for (let i = chunk.indexOf(NL); i !== -1; i = chunk.indexOf(NL, i + 1)) at.push(i);
  return at;
}

/** Each whole line of `text` after a header; an unfinished last line is left as it is. */
function stampLines(text: string, header: () => string): Buffer {
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  return Buffer.from(lines.map((line) => `${header()}${line}\n`).join('') + last);
}

export function createLinePrefixer(options: LinePrefixerOptions): LinePrefixer {
  const { clock } = options;
  const streamId = options.streamId ?? 0;
  const type = options.type ?? 'O';
  let held: Buffer[] = [];
  let heldBytes = 0;
  let heldLength = 0;
  let append = false;

  /** The header of an entry starting now; it consumes the continuation flag. */
  function header(): Buffer {
    const h = Buffer.from(timestampHeader(clock.now(), streamId, type, append));
    append = false;
    return h;
  }

  function hold(bytes: Buffer, isHeader: boolean): void {
    held.push(bytes);
    heldLength += bytes.length;
    if (!isHeader) heldBytes += bytes.length;
  }

  function release(out: Buffer[]): void {
    out.push(...held);
    held = [];
    heldBytes = 0;
    heldLength = 0;
  }

  /** The rest of a write after its last `\n`: sent as a continued entry, or held back. */
  function unfinished(rest: Buffer, out: Buffer[]): void {
    if (rest.includes(CR) || heldBytes + rest.length > HOLD_BYTES) {
      if (heldBytes > 0) release(out);
      else out.push(header());
      out.push(rest, NEWLINE);
      append = true;
      return;
    }
    if (heldBytes === 0) hold(header(), true);
    hold(Buffer.from(rest), false);
  }

  /**
   * The whole lines of one write, in one buffer: the held line first, then each line after one
   * header (the lines of one write arrived at the same moment, so they share its time).
   */
  function wholeLines(chunk: Buffer, at: number[]): Buffer {
    const last = at[at.length - 1] ?? -1;
    const stamp = heldBytes > 0 ? null : header();
    const shared = Buffer.from(timestampHeader(clock.now(), streamId, type, false));
    const headers = at.length - (stamp ? 0 : 1);
    const out = Buffer.allocUnsafe(heldLength + shared.length * headers + last + 1);
    let o = 0;
    for (const part of held) o += part.copy(out, o);
    held = [];
    heldBytes = 0;
    heldLength = 0;
    let pos = 0;
    for (const nl of at) {
      const h = pos === 0 ? stamp : shared;
      if (h) o += h.copy(out, o);
      o += chunk.copy(out, o, pos, nl + 1);
      pos = nl + 1;
    }
    return out;
  }

  function write(chunk: Buffer): Buffer {
    const at = newlines(chunk);
    const lines = at.length > 0 ? wholeLines(chunk, at) : null;
    const pos = (at[at.length - 1] ?? -1) + 1;
    if (pos >= chunk.length) return lines ?? Buffer.alloc(0);
    const out: Buffer[] = lines ? [lines] : [];
    unfinished(chunk.subarray(pos), out);
    return Buffer.concat(out);
  }

  return {
    write,
    close() {
      if (heldBytes === 0) return Buffer.alloc(0);
      const out: Buffer[] = [];
      release(out);
      out.push(NEWLINE);
      return Buffer.concat(out);
    },
    stamp: (text) => stampLines(text, () => timestampHeader(clock.now(), streamId, type, false)),
  };
}
