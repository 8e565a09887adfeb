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
/** The length of gitlab-runner's timestamp header (`2023-11-14T22:13:20.123000Z 00O `). */
const HEADER_BYTES = 32;

export interface LinePrefixer {
  /** Returns the bytes ready to be stored (possibly empty), possibly a view of the prefixer's own buffer valid until the next call. */
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

/** How many `\n`s `chunk` holds. */
function countNewlines(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(NL); i !== -1; i = chunk.indexOf(NL, i + 1)) n++;
  return n;
}

/** Each whole line of `text` after a header; an unfinished last line is left as it is. */
function stampLines(text: string, header: () => string): Buffer {
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  return Buffer.from(lines.map((line) => `${header()}${line}\n`).join('') + last);
}

/** Copies chunk[0..last] into `out` at `o`, `shared` before every line but the first; returns the end. */
function copyLines(chunk: Buffer, last: number, shared: Buffer, out: Buffer, o: number): number {
  let at = o;
  for (let pos = 0; pos <= last;) {
    if (pos > 0) at += shared.copy(out, at);
    const nl = chunk.indexOf(NL, pos);
    at += chunk.copy(out, at, pos, nl + 1);
    pos = nl + 1;
  }
  return at;
}

/** Copies `parts` one after the other into `out` at `o`; returns the end. */
function copyAll(parts: Buffer[], out: Buffer, o: number): number {
  let at = o;
  for (const part of parts) at += part.copy(out, at);
  return at;
}

/** The buffer a prefixer's output lands in: grown, never shrunk, so a write allocates nothing. */
function createScratch() {
  let buffer = Buffer.alloc(0);
  return {
    /** The buffer with room for `bytes` (its content is not kept). */
    room(bytes: number): Buffer {
      if (buffer.length < bytes) buffer = Buffer.allocUnsafeSlow(Math.max(bytes, buffer.length * 2));
      return buffer;
    },
    /** A larger buffer that keeps the first `used` bytes (a header longer than reserved). */
    grown(used: number, bytes: number): Buffer {
      const bigger = Buffer.allocUnsafeSlow(bytes);
      buffer.copy(bigger, 0, 0, used);
      buffer = bigger;
      return bigger;
    },
  };
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
  function unfinished(rest: Buffer, out: Buffer[]): Buffer[] {
    if (rest.includes(CR) || heldBytes + rest.length > HOLD_BYTES) {
      if (heldBytes > 0) release(out);
      else out.push(header());
      out.push(rest, NEWLINE);
      append = true;
      return out;
    }
    if (heldBytes === 0) hold(header(), true);
    hold(Buffer.from(rest), false);
    return out;
  }

  const scratch = createScratch();

  /**
   * The whole lines of one write (up to its last `\n`, at `last`), with `tail` more bytes of room
   * after them: the held line first, then each line after one header (the lines of one write arrived
   * at the same moment, so they share its time). Returns the buffer and the bytes written.
   */
  function wholeLines(chunk: Buffer, last: number, tail: number): { out: Buffer; o: number } {
    const stamp = heldBytes > 0 ? null : header();
    const shared = Buffer.from(timestampHeader(clock.now(), streamId, type, false));
    // a header before every line but the first, which has `stamp` or continues the held line
    const headers = countNewlines(chunk.subarray(0, last + 1)) - 1;
    const out = scratch.room(heldLength + (stamp?.length ?? 0) + shared.length * headers + last + 1 + tail);
    const o = copyAll(stamp ? [...held, stamp] : held, out, 0);
    held = [];
    heldBytes = 0;
    heldLength = 0;
    return { out, o: copyLines(chunk, last, shared, out, o) };
  }

  /**
   * The bytes ready after `chunk`. After a `\n` they are a view of `scratch`, valid until the next
   * call (the trace stores or copies them at once): no buffer is allocated per write.
   */
  function write(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const last = chunk.lastIndexOf(NL);
    if (last === -1) return Buffer.concat(unfinished(chunk, []));
    const rest = chunk.subarray(last + 1);
    // after the whole lines nothing is held, so the rest is either sent now (as `unfinished` does) or held
    const sendRest = rest.length > 0 && (rest.includes(CR) || rest.length > HOLD_BYTES);
    // room for the rest's header, which has the length of every header
    const extra = sendRest ? rest.length + NEWLINE.length : 0;
    let { out, o } = wholeLines(chunk, last, sendRest ? HEADER_BYTES + extra : 0);
    if (sendRest) {
      const h = header();
      if (out.length < o + h.length + extra) out = scratch.grown(o, o + h.length + extra);
      o = copyAll([h, rest, NEWLINE], out, o);
      append = true;
    } else if (rest.length > 0) {
      hold(header(), true);
      hold(Buffer.from(rest), false);
    }
    return out.subarray(0, o);
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
