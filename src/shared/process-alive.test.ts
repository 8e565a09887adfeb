import { spawn } from 'node:child_process';
import { once } from 'node:events';

import { describe, expect, it } from 'vitest';

import { processAlive, processStartTime, recordedProcessRuns } from './process-alive.js';

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

describe('processStartTime', () => {
  it('reads this process start time from /proc, and nothing for a process that does not exist', () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(2 ** 22 + 17)).toBeNull();
  });
});

describe('recordedProcessRuns', () => {
  const probe = {
    alive: (pid: number) => pid === 200,
    startTime: (pid: number) => (pid === 200 ? '1200' : null),
  };

  it('is true only for a live pid that started when the record says', () => {
    expect(recordedProcessRuns(200, '1200', probe)).toBe(true);
    expect(recordedProcessRuns(200, '777', probe)).toBe(false);
    expect(recordedProcessRuns(300, '1300', probe)).toBe(false);
  });

  it('trusts the pid alone when no start time was recorded or none can be read', () => {
    expect(recordedProcessRuns(200, undefined, probe)).toBe(true);
    expect(recordedProcessRuns(200, '', probe)).toBe(true);
    expect(recordedProcessRuns(200, '1200', { ...probe, startTime: () => null })).toBe(true);
  });
});
