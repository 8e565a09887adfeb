/**
 * Where a job's log bytes live until the job is over: in memory while the log is small, then in an
 * unlinked temporary file (as gitlab-runner buffers its traces on disk), so the runner's memory
 * stays flat however much a job prints. The file is created with mode 0600 and unlinked at once:
 * it disappears with the process even after a crash, and holds only masked bytes.
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface TraceStorage {
  readonly size: number;
  append(bytes: Buffer): void;
  /**
   * Bytes [from, to) with 0 <= from < to <= size. With `scratch` (at least to − from long), bytes
   * read from the file land in it and the result is a view of it, valid until its next use.
   */
  read(from: number, to: number, scratch?: Buffer): Buffer;
  /** Closes the file, if any; reads after it throw. Idempotent. */
  dispose(): void;
}

export interface TraceStorageOptions {
  /** Bytes kept in memory before spilling to a file (default 4 MiB, the default `output_limit`). */
  memoryBytes?: number;
  /** Directory of the temporary file (default: the OS temp dir). */
  dir?: string;
}

export function createTraceStorage(options: TraceStorageOptions = {}): TraceStorage {
  const memoryBytes = options.memoryBytes ?? 4 * 1024 * 1024;
  const memory = createMemoryChunks();
  let fd: number | null = null;
  let disposed = false;
  let size = 0;

  function spill(): number {
    const file = path.join(options.dir ?? tmpdir(), `flotilla-trace-${randomBytes(8).toString('hex')}`);
    const opened = openSync(file, 'wx+', 0o600);
    unlinkSync(file);
    // chunk by chunk: no copy of the whole memory part
    for (const chunk of memory.chunks()) writeAll(opened, chunk);
    memory.clear();
    return opened;
  }

  return {
    get size() {
      return size;
    },
    append(bytes) {
      if (disposed) throw new Error('trace storage used after dispose');
      if (fd === null && size + bytes.length > memoryBytes) fd = spill();
      if (fd === null) memory.append(bytes);
      else writeAll(fd, bytes);
      size += bytes.length;
    },
    read(from, to, scratch) {
      if (disposed) throw new Error('trace storage used after dispose');
      if (fd === null) return memory.read(from, to);
      const out =
        scratch && scratch.length >= to - from
          ? scratch.subarray(0, to - from)
          : Buffer.allocUnsafe(to - from);
      let done = 0;
      while (done < out.length) {
        const n = readSync(fd, out, done, out.length - done, from + done);
        if (n === 0) throw new Error(`trace file ended at ${from + done}, expected ${to}`);
        done += n;
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (fd !== null) closeSync(fd);
      memory.clear();
    },
  };
}

function writeAll(fd: number, bytes: Buffer): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Append-only chunks with their start offsets; a read copies only the chunks it overlaps. */
function createMemoryChunks() {
  let chunks: Buffer[] = [];
  let starts: number[] = [];
  let size = 0;

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

  return {
    get size() {
      return size;
    },
    append(bytes: Buffer): void {
      // a copy: the caller's buffer may be a view of memory it reuses
      chunks.push(Buffer.from(bytes));
      starts.push(size);
      size += bytes.length;
    },
    read(from: number, to: number): Buffer {
      const parts: Buffer[] = [];
      for (let i = chunkAt(from); i < chunks.length && (starts[i] ?? 0) < to; i++) {
        const chunk = chunks[i] as Buffer;
        const base = starts[i] ?? 0;
        parts.push(chunk.subarray(Math.max(0, from - base), Math.min(chunk.length, to - base)));
      }
      return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    },
    chunks: (): readonly Buffer[] => chunks,
    clear(): void {
      chunks = [];
      starts = [];
      size = 0;
    },
  };
}
