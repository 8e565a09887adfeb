/**
 * One job's log as the coordinator will see it: writes pass through the masker, then the output
 * limit, then land in an append-only list of chunks with a running CRC32 (the `output.checksum` of
 * the final PUT). The trace sender reads unsent ranges from it; a range copies only the chunks it
 * overlaps, so memory stays at the log's size (bounded by `output_limit`), never a multiple of it.
 */
import { crc32 } from 'node:zlib';

import type { JobOutput } from '../../executors/executor.js';
import { createMasker, type MaskerOptions } from './masker.js';
import { createOutputLimiter } from './output-limit.js';

export interface JobTrace extends JobOutput {
  /** Bytes in the trace so far. */
  readonly size: number;
  /** Bytes [start, end) of the trace. */
  slice(start: number, end: number): Buffer;
  /** `crc32:%08x` of the whole trace. */
  checksum(): string;
  /** Releases what the masker held back; later writes are ignored. */
  finish(): void;
  /** The whole trace as text (tests, debugging). */
  text(): string;
}

export interface JobTraceOptions extends MaskerOptions {
  limitBytes: number;
}

export function createJobTrace(options: JobTraceOptions): JobTrace {
  const masker = createMasker(options);
  const limiter = createOutputLimiter(options.limitBytes);
  const chunks: Buffer[] = [];
  /** Start offset of each chunk. */
  const starts: number[] = [];
  let size = 0;
  let crc = 0;
  let finished = false;

  function append(bytes: Buffer): void {
    const kept = limiter.write(bytes);
    if (kept.length === 0) return;
    chunks.push(kept);
    starts.push(size);
    size += kept.length;
    crc = crc32(kept, crc);
  }

  /** Index of the chunk holding byte `offset` (binary search). */
  function chunkAt(offset: number): number {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  function slice(start: number, end: number): Buffer {
    const from = Math.max(0, start);
    const to = Math.min(size, end);
    if (to <= from) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    for (let i = chunkAt(from); i < chunks.length && (starts[i] ?? 0) < to; i++) {
      const chunk = chunks[i] as Buffer;
      const base = starts[i] ?? 0;
      parts.push(chunk.subarray(Math.max(0, from - base), Math.min(chunk.length, to - base)));
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  return {
    write(chunk) {
      // once the output limit is reached nothing more is kept, so there is nothing left to mask
      if (finished || limiter.truncated) return;
      append(masker.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    },
    get size() {
      return size;
    },
    slice,
    checksum: () => `crc32:${(crc >>> 0).toString(16).padStart(8, '0')}`,
    finish() {
      // once the output limit is reached nothing more is kept, so there is nothing left to mask
      if (finished || limiter.truncated) return;
      append(masker.flush());
      finished = true;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
