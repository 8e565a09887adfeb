import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import type { JobOutput } from '../executor.js';
import { readPipe } from './pipe-reader.js';
import { runProcess } from './process.js';

/** 3 MB of numbered lines on stdout (the reads fill the buffer many times) and a line on stderr. */
const SCRIPT = 'seq 1 400000; echo oops >&2';
const expected = (): string => {
  const lines: string[] = [];
  for (let i = 1; i <= 400_000; i++) lines.push(String(i));
  return `${lines.join('\n')}\n`;
};
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** An output that hashes each chunk at once, keeping nothing (as the job trace does). */
function hashingOutput(): JobOutput & { digest(): string; stderrSeen(): boolean } {
  const hash = createHash('sha256');
  let tail = '';
  return {
    syncWrite: true,
    write(chunk) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (b.includes('oops')) tail += b.toString();
      else hash.update(b);
    },
    digest: () => hash.digest('hex'),
    stderrSeen: () => tail === 'oops\n',
  };
}

describe('readPipe', () => {
  it('reads a child process pipe into one reused buffer, every byte, before the child closes', async () => {
    const child = spawn('bash', ['-c', 'seq 1 400000'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const hash = createHash('sha256');
    const buffers = new Set<ArrayBufferLike>();
    const reused = readPipe(child.stdout, (chunk) => {
      buffers.add(chunk.buffer);
      hash.update(chunk);
    });
    let closedAfter = '';
    await new Promise<void>((resolve) =>
      child.on('close', () => {
        closedAfter = hash.digest('hex');
        resolve();
      }),
    );
    expect(reused).toBe(true);
    expect(buffers.size).toBe(1);
    expect(closedAfter).toBe(sha(expected()));
  });

  it('falls back to data events for a stream that is not a fresh pipe socket', async () => {
    const child = spawn('bash', ['-c', 'echo hi'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', () => undefined);
    const seen: Buffer[] = [];
    expect(readPipe(child.stdout, (chunk) => seen.push(chunk))).toBe(false);
    await new Promise((resolve) => child.on('close', resolve));
    expect(Buffer.concat(seen).toString()).toBe('hi\n');
  });
});

describe('runProcess with an output that is done with each chunk at once', () => {
  it('delivers stdout and stderr whole, then the exit code', async () => {
    const output = hashingOutput();
    const code = await runProcess({
      command: 'bash',
      args: ['-c', `${SCRIPT}; exit 3`],
      cwd: process.cwd(),
      env: process.env,
      output,
      signal: new AbortController().signal,
    });
    expect(code).toBe(3);
    expect(output.digest()).toBe(sha(expected()));
    expect(output.stderrSeen()).toBe(true);
  });

  it('rejects a command that does not exist, and an aborted one once its group is gone', async () => {
    const output: JobOutput = { syncWrite: true, write: () => undefined };
    const base = { cwd: process.cwd(), env: process.env, output };
    await expect(
      runProcess({
        ...base,
        command: 'no-such-command-flotilla',
        args: [],
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow(/ENOENT/);
    const abort = new AbortController();
    const running = runProcess({
      ...base,
      command: 'bash',
      args: ['-c', 'yes | head -c 100000000; sleep 30'],
      signal: abort.signal,
      killGraceMs: 100,
    });
    setTimeout(() => abort.abort(new Error('stopped')), 200);
    await expect(running).rejects.toThrow('stopped');
  });
});
