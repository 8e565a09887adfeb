/**
 * Starts a real S3-compatible server process (test/helpers/s3-server-main.mjs, a test part only)
 * on `address`, with its data in a temp dir and `buckets` created. Its fixed credentials are the
 * server's only account (S3RVER / S3RVER); requests signed with anything else are refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3-server-main.mjs');

export const S3_ACCESS_KEY = 'S3RVER';
export const S3_SECRET_KEY = 'S3RVER';

export interface S3ServerProcess {
  /** `host:port`, as `[runners.cache.s3] ServerAddress` takes it. */
  address: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startS3Server(
  address = '127.0.0.1',
  buckets = ['runner-cache'],
  port = 0,
): Promise<S3ServerProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-s3-'));
  const child = spawn(process.execPath, [MAIN, address, String(port), dir, ...buckets], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = /S3 listening on (\S+):(\d+)/.exec(output);
      if (m) resolve(`${address}:${m[2]}`);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the S3 server exited (${code}):\n${output}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    address: listening,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
