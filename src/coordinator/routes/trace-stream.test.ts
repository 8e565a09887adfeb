import { describe, expect, it } from 'vitest';

import type { Store } from '../store/store.js';
import { traceStream } from './trace-stream.js';

const LOG = Buffer.from('0123456789abcdefghij');

function storeOf(log: Buffer, reads: [number, number | undefined][]): Store {
  const readTrace = async (_jobId: number, offset = 0, limit?: number): Promise<Buffer> => {
    reads.push([offset, limit]);
    return log.subarray(offset, limit === undefined ? undefined : offset + limit);
  };
  return { readTrace } as unknown as Store;
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe('traceStream', () => {
  it('serves the log in bounded windows, up to the size the request started with', async () => {
    const reads: [number, number | undefined][] = [];
    const body = await collect(traceStream(storeOf(LOG, reads), 1, 17, 5));
    expect(body.toString()).toBe('0123456789abcdefg');
    expect(reads).toEqual([
      [0, 5],
      [5, 5],
      [10, 5],
      [15, 2],
    ]);
  });

  it('ends early when the store has less than expected, and fails the stream on a store error', async () => {
    expect((await collect(traceStream(storeOf(Buffer.from('abc'), []), 1, 10, 4))).toString()).toBe('abc');
    const failing = { readTrace: async () => Promise.reject(new Error('disk gone')) } as unknown as Store;
    await expect(collect(traceStream(failing, 1, 10))).rejects.toThrow('disk gone');
  });
});
