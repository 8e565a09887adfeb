/**
 * One job's log as the coordinator will see it: writes pass through the masker, then (with
 * `timestamps`, gitlab-runner's FF_TIMESTAMPS) the line prefixer, then the output limit, then land in an append-only list of chunks with a running CRC32 (the `output.checksum` of
 * the final PUT). The trace sender reads unsent ranges from it. The bytes live in a
 * `TraceStorage`: in memory for small logs, in an unlinked temporary file past a few MiB, so the
 * runner's memory does not grow with the log. `dispose()` once the job is reported.
 */
import { crc32 } from 'node:zlib';

import type { JobOutput } from '../../executors/executor.js';
import type { Clock } from '../../shared/clock.js';
import { createLinePrefixer, type LinePrefixer } from './line-prefixer.js';
import { createMasker, type MaskerOptions } from './masker.js';
import { createOutputLimiter } from './output-limit.js';
import { createTraceStorage, type TraceStorageOptions } from './trace-storage.js';

export interface JobTrace extends JobOutput {
  /** Bytes in the trace so far. */
  readonly size: number;
  /** Bytes [start, end) of the trace; with `scratch`, possibly a view of it (see TraceStorage.read). */
  slice(start: number, end: number, scratch?: Buffer): Buffer;
  /** `crc32:%08x` of the whole trace. */
  checksum(): string;
  /** Releases what the masker held back; later writes are ignored. */
  finish(): void;
  /** The whole trace as text (tests, debugging). */
  text(): string;
  /** Frees the stored bytes (closes the spill file); the trace is unusable afterwards. */
  dispose(): void;
  /** Calls `listener` after every append that grew the trace; returns the unsubscribe function. */
  onGrow(listener: () => void): () => void;
}

export interface JobTraceOptions extends MaskerOptions {
  limitBytes: number;
  storage?: TraceStorageOptions;
  /** Set: every line gets gitlab-runner's timestamp header, from this clock. */
  timestamps?: { clock: Clock } | undefined;
}

function noticeWithTimestamps(prefixer: LinePrefixer): (notice: string) => Buffer {
  // the notice starts with the newline that ends the cut line; each of its own lines gets a header
  return (notice) => Buffer.concat([Buffer.from('\n'), prefixer.stamp(notice.slice(1))]);
}

export function createJobTrace(options: JobTraceOptions): JobTrace {
  const masker = createMasker(options);
  const prefixer = options.timestamps ? createLinePrefixer({ clock: options.timestamps.clock }) : null;
  const limiter = createOutputLimiter(
    options.limitBytes,
    prefixer ? noticeWithTimestamps(prefixer) : undefined,
  );
  const storage = createTraceStorage(options.storage);
  const listeners = new Set<() => void>();
  let crc = 0;
  let finished = false;

  function store(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const kept = limiter.write(bytes);
    if (kept.length === 0) return;
    storage.append(kept);
    crc = crc32(kept, crc);
    for (const listener of listeners) listener();
  }

  function append(masked: Buffer): void {
    store(prefixer && masked.length > 0 ? prefixer.write(masked) : masked);
  }

  function slice(start: number, end: number, scratch?: Buffer): Buffer {
    const from = Math.max(0, start);
    const to = Math.min(storage.size, end);
    return to <= from ? Buffer.alloc(0) : storage.read(from, to, scratch);
  }

  return {
    // every byte is masked and stored (or held back as a copy) before write returns
    syncWrite: true,
    write(chunk) {
      // once the output limit is reached nothing more is kept, so there is nothing left to mask
      if (finished || limiter.truncated) return;
      append(masker.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    },
    get size() {
      return storage.size;
    },
    slice,
    checksum: () => `crc32:${(crc >>> 0).toString(16).padStart(8, '0')}`,
    finish() {
      // once the output limit is reached nothing more is kept, so there is nothing left to mask
      if (finished || limiter.truncated) return;
      append(masker.flush());
      if (prefixer && !limiter.truncated) store(prefixer.close());
      finished = true;
    },
    text: () => slice(0, storage.size).toString('utf8'),
    dispose: () => {
      listeners.clear();
      storage.dispose();
    },
    onGrow(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
