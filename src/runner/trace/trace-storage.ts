/**
 * Where a job's log bytes live until the job is over: in memory while the log is small, then also
 * in an unlinked temporary file (as gitlab-runner buffers its traces on disk), so the runner's
 * memory stays flat however much a job prints, and any range can still be resent after a 416. The
 * file is created with mode 0600 and unlinked at once: it disappears with the process even after a
 * crash, and holds only masked bytes.
 *
 * The bytes are copied into blocks of up to 1 MiB as they arrive. Once the log passes
 * `memoryBytes`, the blocks are written to the file in the background (the libuv thread pool, one
 * `writev` of everything unwritten at a time), so the event loop that reads the job's output never
 * waits for the disk; a block leaves memory once it is in the file and more than `windowBytes` of
 * newer output follows it, and is reused for newer output. The sender reads the bytes it has not
 * sent yet, which are recent, from memory (one copy into its buffer), not back from the file. Should the disk fall behind by
 * `syncBacklogBytes`, appends write synchronously until it catches up; should a write fail (a full
 * disk), the bytes stay in memory and no more are written.
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync, writev } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface TraceStorage {
  readonly size: number;
  append(bytes: Buffer): void;
  /**
   * Bytes [from, to) with 0 <= from < to <= size: a copy, in `scratch` when it is at least
   * to − from long (the result is then a view of it, valid until its next use).
   */
  read(from: number, to: number, scratch?: Buffer): Buffer;
  /** Resolves once no background write is in progress (what is unwritten then stays in memory). */
  idle(): Promise<void>;
  /** Bytes held in memory (the file holds the rest). */
  readonly memoryHeld: number;
  /** Frees the memory and closes the file (once a write in progress ends); reads after it throw. Idempotent. */
  dispose(): void;
}

export interface TraceStorageOptions {
  /** Bytes kept in memory only, before the file is made (default 4 MiB, the default `output_limit`). */
  memoryBytes?: number;
  /** Directory of the temporary file (default: the OS temp dir). */
  dir?: string;
  /** Written bytes still kept in memory behind the newest (default 8 MiB: two 4 MiB PATCHes). */
  windowBytes?: number;
  /** Largest block (default 1 MiB). */
  blockBytes?: number;
  /** Unwritten bytes past which appends write synchronously (default 32 MiB). */
  syncBacklogBytes?: number;
  /** A file write starts once this many bytes are unwritten (default 1 MiB). */
  writeBatchBytes?: number;
}

const MiB = 1024 * 1024;
const FIRST_BLOCK = 64 * 1024;

/** Blocks of bytes [start, size): append copies in, the oldest blocks can be dropped. */
interface Blocks {
  list: Buffer[];
  starts: number[];
  /** Offset of the first byte held (the first block's start). */
  start: number;
  size: number;
  /** Dropped full-size blocks, reused by later appends (no reads hand out views of blocks). */
  spare: Buffer[];
}

function newBlock(b: Blocks, length: number, blockBytes: number): Buffer {
  const spare = length === blockBytes ? b.spare.pop() : undefined;
  return spare ?? Buffer.allocUnsafe(length);
}

function appendToBlocks(b: Blocks, bytes: Buffer, blockBytes: number): void {
  let done = 0;
  while (done < bytes.length) {
    const last = b.list.length - 1;
    const tail = b.list[last];
    const used = tail ? b.size - (b.starts[last] ?? 0) : 0;
    if (!tail || used === tail.length) {
      const length = Math.min(blockBytes, Math.max(FIRST_BLOCK, b.size - b.start, bytes.length - done));
      b.list.push(newBlock(b, length, blockBytes));
      b.starts.push(b.size);
      continue;
    }
    const n = bytes.copy(tail, used, done);
    done += n;
    b.size += n;
  }
}

/** Index of the block holding byte `offset` (binary search; offset within [start, size)). */
function blockAt(b: Blocks, offset: number): number {
  let lo = 0;
  let hi = b.starts.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if ((b.starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Views of bytes [from, to) of the blocks (from >= b.start, to <= b.size). */
function blockViews(b: Blocks, from: number, to: number): Buffer[] {
  const views: Buffer[] = [];
  for (let i = blockAt(b, from); i < b.list.length && (b.starts[i] ?? 0) < to; i++) {
    const block = b.list[i] as Buffer;
    const base = b.starts[i] ?? 0;
    views.push(block.subarray(Math.max(0, from - base), Math.min(block.length, to - base)));
  }
  return views;
}

/** Drops the oldest blocks that end at or before `before` (never the last one), keeping a few spares. */
function dropBlocks(b: Blocks, before: number, blockBytes: number, maxSpare: number): void {
  let n = 0;
  while (n < b.list.length - 1 && (b.starts[n + 1] ?? Infinity) <= before) n++;
  if (n === 0) return;
  for (const block of b.list.splice(0, n))
    if (block.length === blockBytes && b.spare.length < maxSpare) b.spare.push(block);
  b.starts.splice(0, n);
  b.start = b.starts[0] ?? b.size;
}

function writeAllSync(fd: number, pieces: readonly Buffer[], position: number): number {
  let at = position;
  for (const piece of pieces) {
    let done = 0;
    while (done < piece.length) done += writeSync(fd, piece, done, piece.length - done, at + done);
    at += piece.length;
  }
  return at - position;
}

function readFully(fd: number, out: Buffer, at: number, position: number, length: number): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, at + done, length - done, position + done);
    if (n === 0) throw new Error(`trace file ended at ${position + done}, expected ${position + length}`);
    done += n;
  }
}

function openSpillFile(dir: string | undefined): number {
  const file = path.join(dir ?? tmpdir(), `flotilla-trace-${randomBytes(8).toString('hex')}`);
  const fd = openSync(file, 'wx+', 0o600);
  unlinkSync(file);
  return fd;
}

interface SpillConfig {
  dir: string | undefined;
  windowBytes: number;
  blockBytes: number;
  syncBacklog: number;
  writeBatch: number;
}

/** The file side of a storage: bytes [0, written) are in the file; one background write at a time. */
interface SpillWriter {
  readonly fd: number;
  /** Writes what is unwritten once there is a batch of it (in the background, or now past the backlog). */
  writeMore(): void;
  idle(): Promise<void>;
  /** Closes the file now, or when the write in progress ends. */
  close(): void;
}

function createSpillWriter(blocks: Blocks, cfg: SpillConfig): SpillWriter {
  const fd = openSpillFile(cfg.dir);
  const maxSpare = Math.ceil(cfg.writeBatch / cfg.blockBytes) + 2;
  let written = 0;
  let writing = false;
  let failed = false;
  let closed = false;
  const onIdle: (() => void)[] = [];

  function advance(bytes: number): void {
    written += bytes;
    // a block leaves memory once it is in the file and `windowBytes` of newer output follow it
    dropBlocks(blocks, Math.min(written, blocks.size - cfg.windowBytes), cfg.blockBytes, maxSpare);
  }

  function settled(err: Error | null, bytes: number): void {
    writing = false;
    if (closed) closeSync(fd);
    else if (err || bytes === 0) failed = true;
    else {
      advance(bytes);
      writeMore();
    }
    if (!writing) for (const resolve of onIdle.splice(0)) resolve();
  }

  function writeMore(): void {
    const unwritten = blocks.size - written;
    if (writing || failed || closed || unwritten < cfg.writeBatch) return;
    const views = blockViews(blocks, written, blocks.size);
    if (unwritten <= cfg.syncBacklog) {
      writing = true;
      writev(fd, views, written, settled);
      return;
    }
    try {
      advance(writeAllSync(fd, views, written));
    } catch {
      // a full disk: the bytes stay in memory
      failed = true;
    }
  }

  return {
    fd,
    writeMore,
    idle: () => (writing ? new Promise<void>((resolve) => onIdle.push(resolve)) : Promise.resolve()),
    close() {
      if (closed) return;
      closed = true;
      if (!writing) closeSync(fd);
    },
  };
}

export function createTraceStorage(options: TraceStorageOptions = {}): TraceStorage {
  const memoryBytes = options.memoryBytes ?? 4 * MiB;
  const cfg: SpillConfig = {
    dir: options.dir,
    windowBytes: options.windowBytes ?? 8 * MiB,
    blockBytes: options.blockBytes ?? MiB,
    syncBacklog: options.syncBacklogBytes ?? 32 * MiB,
    writeBatch: options.writeBatchBytes ?? MiB,
  };
  const blocks: Blocks = { list: [], starts: [], start: 0, size: 0, spare: [] };
  let file: SpillWriter | null = null;
  let disposed = false;
  const live = (): void => {
    if (disposed) throw new Error('trace storage used after dispose');
  };

  return {
    get size() {
      return blocks.size;
    },
    get memoryHeld() {
      return blocks.list.reduce((n, block) => n + block.length, 0);
    },
    append(bytes) {
      live();
      appendToBlocks(blocks, bytes, cfg.blockBytes);
      if (file === null && blocks.size > memoryBytes) file = createSpillWriter(blocks, cfg);
      file?.writeMore();
    },
    read(from, to, scratch) {
      live();
      const inFile = Math.max(0, Math.min(to, blocks.start) - from);
      const views = from + inFile < to ? blockViews(blocks, from + inFile, to) : [];
      // always a copy: a block is reused once dropped, and a PATCH body may outlive that
      const out =
        scratch && scratch.length >= to - from
          ? scratch.subarray(0, to - from)
          : Buffer.allocUnsafe(to - from);
      // bytes before the first block in memory are in the file: blocks leave memory once written
      if (inFile > 0 && file !== null) readFully(file.fd, out, 0, from, inFile);
      let at = inFile;
      for (const view of views) at += view.copy(out, at);
      return out;
    },
    idle: () => file?.idle() ?? Promise.resolve(),
    dispose() {
      if (disposed) return;
      disposed = true;
      blocks.list = [];
      blocks.starts = [];
      blocks.spare = [];
      file?.close();
    },
  };
}
