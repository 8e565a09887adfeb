import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createJobTrace } from './job-trace.js';
import { createTraceStorage } from './trace-storage.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trace-storage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trace storage', () => {
  it('reads any range the same before and after spilling to its file', () => {
    const storage = createTraceStorage({ memoryBytes: 10, dir });
    const written: Buffer[] = [];
    for (const part of ['abc', 'defg', 'hij', 'klmnopqrstu', 'vwxyz']) {
      storage.append(Buffer.from(part));
      written.push(Buffer.from(part));
      const all = Buffer.concat(written);
      expect(storage.size).toBe(all.length);
      for (let from = 0; from < all.length; from++) {
        for (let to = from + 1; to <= all.length; to++) {
          expect(storage.read(from, to).toString()).toBe(all.subarray(from, to).toString());
        }
      }
    }
    storage.dispose();
  });

  it('leaves no file behind, even while it is open, and refuses reads after dispose', async () => {
    const storage = createTraceStorage({ memoryBytes: 4, dir });
    storage.append(Buffer.from('spilled to disk'));
    expect(await readdir(dir)).toEqual([]);
    expect(storage.read(0, 7).toString()).toBe('spilled');
    storage.dispose();
    storage.dispose();
    expect(() => storage.read(0, 1)).toThrow(/after dispose/);
  });

  it('keeps a job trace (masking, checksum, slices) identical across the spill', () => {
    const options = { secrets: ['hunter22'], tokenPrefixes: [], limitBytes: 1024 * 1024 };
    const small = createJobTrace(options);
    const spilled = createJobTrace({ ...options, storage: { memoryBytes: 16, dir } });
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
