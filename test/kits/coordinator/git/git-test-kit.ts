/**
 * Helpers for this folder's tests: temporary directories, the real git CLI with an isolated
 * configuration, and a loopback HTTP server that routes `/<fullPath>.git/<pathInfo>` to a
 * `GitHost` behind a basic-auth check, as the coordinator's routes do.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../../src/shared/logger.js';
import type { GitHost, ServeHttpOptions } from '../../../../src/coordinator/git/git-host.js';

export const TEST_USER = 'alice';
export const TEST_PASSWORD = 'secret-password';

export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${prefix}-`));
}

/** A pino logger whose records land in `records`, to assert on what was logged. */
export function captureLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), records };
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** An environment for the git CLI that ignores the machine's and user's configuration. */
export function cliEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(home, 'gitconfig'),
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Test Author',
    GIT_AUTHOR_EMAIL: 'author@example.test',
    GIT_COMMITTER_NAME: 'Test Committer',
    GIT_COMMITTER_EMAIL: 'committer@example.test',
    LC_ALL: 'C',
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the git CLI in `cwd`; resolves with the exit code instead of failing. */
export function gitCli(
  home: string,
  cwd: string,
  args: readonly string[],
  input?: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'git',
      [...args],
      { cwd, env: cliEnv(home), timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.on('error', () => undefined);
    if (input === undefined) child.stdin?.end();
    else child.stdin?.end(input);
  });
}

/** Like `gitCli` but throws on a non-zero exit, returning trimmed stdout. */
export async function git(
  home: string,
  cwd: string,
  args: readonly string[],
  input?: string,
): Promise<string> {
  const result = await gitCli(home, cwd, args, input);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout.trim();
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  status: number;
}

export interface TestGitServer {
  /** `http://alice:secret-password@127.0.0.1:<port>`. */
  baseUrl: string;
  /** Without credentials. */
  anonymousUrl: string;
  requests: SeenRequest[];
  /** Resolves when every `serveHttp` call started so far has settled. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

type RequestOptions = Pick<ServeHttpOptions, 'allowPush' | 'onPush'>;

const GIT_URL = /^\/(.+?)\.git(\/.*)?$/;

/** A loopback server in front of `host`; `options` is read per request so tests can change it. */
export async function startGitServer(host: GitHost, options: RequestOptions): Promise<TestGitServer> {
  const requests: SeenRequest[] = [];
  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((req, res) => {
    const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, status: 0 };
    requests.push(seen);
    res.on('finish', () => (seen.status = res.statusCode));
    if (!authorized(req.headers.authorization)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="flotilla"' }).end();
      return;
    }
    const match = GIT_URL.exec((req.url ?? '').split('?')[0] ?? '');
    if (!match?.[1]) {
      res.writeHead(404).end();
      return;
    }
    const pathInfo = match[2] ?? '/';
    const call = host.serveHttp(req, res, {
      fullPath: match[1],
      pathInfo,
      remoteUser: TEST_USER,
      ...options,
    });
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://${TEST_USER}:${TEST_PASSWORD}@127.0.0.1:${port}`,
    anonymousUrl: `http://127.0.0.1:${port}`,
    requests,
    settled: async () => {
      await Promise.all([...inFlight]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function authorized(header: string | undefined): boolean {
  const expected = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}`;
  return header === expected;
}
