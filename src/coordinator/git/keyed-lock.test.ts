import { describe, expect, it } from 'vitest';
import { createKeyedLock } from './keyed-lock.js';

describe('createKeyedLock', () => {
  it('runs tasks of one key in order and other keys alongside', async () => {
    const lock = createKeyedLock();
    const log: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = lock.run('a', async () => {
      log.push('a1 start');
      await gate;
      log.push('a1 end');
    });
    const second = lock.run('a', async () => {
      log.push('a2');
    });
    await lock.run('b', async () => {
      log.push('b');
    });
    release();
    await Promise.all([first, second]);
    expect(log).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
  });

  it('keeps going after a failed task', async () => {
    const lock = createKeyedLock();
    await expect(lock.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('k', () => Promise.resolve(42))).resolves.toBe(42);
  });
});
