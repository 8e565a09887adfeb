import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createJobTrace } from './job-trace.js';
import { createTraceStorage, type TraceStorageOptions } from './trace-storage.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trace-storage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Small blocks, window and batches: every path (memory, file, both) is taken by a few bytes. */
const tiny = (): TraceStorageOptions => ({
  memoryBytes: 10,
  dir,
  blockBytes: 4,
  windowBytes: 5,
  writeBatchBytes: 3,
  syncBacklogBytes: 1 << 20,
});

function expectAllRanges(read: (from: number, to: number) => Buffer, all: Buffer): void {
  for (let from = 0; from < all.length; from++) {
    for (let to = from + 1; to <= all.length; to++) {
      expect(read(from, to).toString()).toBe(all.subarray(from, to).toString());
    }
  }
}

describe('trace storage', () => {
  it('reads any range the same in memory, in its file and across both, while and after writing', async () => {
    const storage = createTraceStorage(tiny());
    const written: Buffer[] = [];
    for (const part of ['abc', 'defg', 'hij', 'klmnopqrstu', 'vwxyz', '0123456789', 'ABCDEFGHIJKLMNOP']) {
      storage.append(Buffer.from(part));
      written.push(Buffer.from(part));
      const all = Buffer.concat(written);
      expect(storage.size).toBe(all.length);
      // a background write may be in progress: the bytes are in memory until it ends
      expectAllRanges((from, to) => storage.read(from, to), all);
      await storage.idle();
      expectAllRanges((from, to) => storage.read(from, to), all);
      const scratch = Buffer.alloc(all.length);
      expectAllRanges((from, to) => storage.read(from, to, scratch), all);
    }
    // the oldest bytes left memory once they were in the file
    expect(storage.memoryHeld).toBeLessThan(Buffer.concat(written).length);
    storage.dispose();
  });

  it('keeps its memory bounded however much is appended, and every byte readable', async () => {
    const storage = createTraceStorage({ dir, memoryBytes: 64 * 1024, windowBytes: 256 * 1024 });
    const part = Buffer.alloc(100_000);
    for (let i = 0; i < 200; i++) {
      part.fill(i & 0xff);
      storage.append(part);
      if (i % 20 === 19) await storage.idle();
    }
    await storage.idle();
    expect(storage.size).toBe(200 * part.length);
    // the window, the unwritten tail (under one batch) and the block being filled
    expect(storage.memoryHeld).toBeLessThanOrEqual(256 * 1024 + 2 * 1024 * 1024);
    for (const i of [0, 1, 57, 150, 199]) {
      const bytes = storage.read(i * part.length, (i + 1) * part.length);
      expect(bytes.every((b) => b === (i & 0xff))).toBe(true);
    }
    const across = storage.read(57 * part.length - 3, 57 * part.length + 3);
    expect([...across]).toEqual([56, 56, 56, 57, 57, 57]);
    storage.dispose();
  });

  it('writes synchronously once the disk falls behind by the backlog, losing nothing', async () => {
    const storage = createTraceStorage({ ...tiny(), syncBacklogBytes: 8 });
    const all: Buffer[] = [];
    for (let i = 0; i < 16; i++) {
      const part = Buffer.from(`part ${i};`);
      storage.append(part);
      all.push(part);
    }
    expectAllRanges((from, to) => storage.read(from, to), Buffer.concat(all));
    await storage.idle();
    expectAllRanges((from, to) => storage.read(from, to), Buffer.concat(all));
    storage.dispose();
  });

  it('leaves no file behind, even while it is open, and refuses reads after dispose', async () => {
    const storage = createTraceStorage({ ...tiny(), memoryBytes: 4 });
    storage.append(Buffer.from('spilled to disk'));
    expect(await readdir(dir)).toEqual([]);
    expect(storage.read(0, 7).toString()).toBe('spilled');
    // disposed while a write may be in progress: the file closes when it ends
    storage.dispose();
    storage.dispose();
    await storage.idle();
    expect(() => storage.read(0, 1)).toThrow(/after dispose/);
    expect(() => storage.append(Buffer.from('x'))).toThrow(/after dispose/);
  });

  it('keeps a job trace (masking, checksum, slices) identical across the spill', async () => {
    const options = { secrets: ['hunter22'], tokenPrefixes: [], limitBytes: 1024 * 1024 };
    const small = createJobTrace(options);
    const spilled = createJobTrace({ ...options, storage: tiny() });
    for (const t of [small, spilled]) {
      for (let i = 0; i < 50; i++) {
        t.write(`line ${i}: password hun`);
        t.write(`ter22 ok\n`);
      }
      t.finish();
    }
    expect(spilled.text()).toBe(small.text());
    expect(spilled.text()).not.toContain('hunter22');
    expect(spilled.checksum()).toBe(small.checksum());
    expect(spilled.slice(100, 300).equals(small.slice(100, 300))).toBe(true);
    small.dispose();
    spilled.dispose();
  });
});
