/**
 * A PostgreSQL server of the test's own (initdb in a temporary directory, on a free loopback
 * port), so a test can stop and start it without touching the shared server on 5432. It uses the
 * installed PostgreSQL binaries (`pg_config --bindir`, else /usr/lib/postgresql/<version>/bin) and
 * runs them as the `postgres` user when the test runs as root (PostgreSQL refuses root). It fails
 * loudly when PostgreSQL is not installed (`bash scripts/test-env.sh` installs it).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import { tempDir } from '../../harness/temp-dir.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

async function binDir(): Promise<string> {
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    const dir = stdout.trim();
    if (existsSync(path.join(dir, 'pg_ctl'))) return dir;
  } catch {
    /* pg_config is not on PATH: look where Debian puts the server */
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? (await readdir(root)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const dir = path.join(root, v, 'bin');
    if (existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found: run `bash scripts/test-env.sh`');
}

async function postgresUser(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

export class PostgresServer {
  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
    private readonly asPostgres: boolean,
    private readonly removeDir: () => Promise<void>,
  ) {}

  /** initdb (trust authentication, user `postgres`) and start; ready when this resolves. */
  static async start(): Promise<PostgresServer> {
    const bin = await binDir();
    const tmp = await tempDir('flotilla-pg-');
    const user = await postgresUser();
    if (user) await chown(tmp.dir, user.uid, user.gid);
    const server = new PostgresServer(bin, tmp.dir, await freePort(), user !== null, tmp.remove);
    await server.exec('initdb', ['-D', server.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await server.startAgain();
    return server;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private async exec(tool: string, args: string[]): Promise<string> {
    const file = path.join(this.bin, tool);
    const { stdout } = this.asPostgres
      ? await run('runuser', ['-u', 'postgres', '--', file, ...args])
      : await run(file, args);
    return stdout;
  }

  /** Starts the server (again) on the same port and data; waits until it accepts connections. */
  async startAgain(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.exec('pg_ctl', [
      '-D',
      this.dataDir,
      '-o',
      options,
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      'start',
    ]);
  }

  /**
   * Stops the server: `fast` ends every session with an error and shuts down cleanly, `immediate`
   * kills it as a crash would (recovery from the WAL at the next start).
   */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop']);
  }

  /** Stops the server if it runs and removes its files. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    await this.removeDir();
  }
}
