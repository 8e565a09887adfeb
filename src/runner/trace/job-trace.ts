/**
 * One job's log as the coordinator will see it: writes pass through the masker, then the output
 * limit, then land in an append-only buffer with a running CRC32 (the `output.checksum` of the final
 * PUT). The trace sender reads unsent ranges from it.
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
  let size = 0;
  let crc = 0;
  let finished = false;
  let joined: Buffer | null = null;

  function append(bytes: Buffer): void {
    const kept = limiter.write(bytes);
    if (kept.length === 0) return;
    chunks.push(kept);
    joined = null;
    size += kept.length;
    crc = crc32(kept, crc);
  }

  function all(): Buffer {
    joined ??= Buffer.concat(chunks);
    return joined;
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
    slice: (start, end) => all().subarray(start, end),
    checksum: () => `crc32:${(crc >>> 0).toString(16).padStart(8, '0')}`,
    finish() {
      // once the output limit is reached nothing more is kept, so there is nothing left to mask
      if (finished || limiter.truncated) return;
      append(masker.flush());
      finished = true;
    },
    text: () => all().toString('utf8'),
  };
}
