import { spawn } from 'node:child_process';
import { once } from 'node:events';

import { describe, expect, it } from 'vitest';

import { processAlive } from './process-alive.js';

describe('processAlive', () => {
  it('is true for a running process and false once it has exited and was reaped', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const pid = child.pid ?? 0;
    expect(processAlive(pid)).toBe(true);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(processAlive(pid)).toBe(false);
  });

  it('is true for a process of another user (the signal is refused, the process exists)', () => {
    // pid 1 belongs to root; as root the signal is simply delivered: true either way.
    expect(processAlive(1)).toBe(true);
    expect(processAlive(2 ** 22 + 17)).toBe(false);
  });
});
