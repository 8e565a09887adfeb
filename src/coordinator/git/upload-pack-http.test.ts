import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { createGitHost } from './create-git-host.js';
import type { GitHost } from './git-host.js';
import { FLUSH_PKT, pktLine } from './pkt-line.js';
import { gitEnv } from './run-git.js';
import {
  git,
  gitCli,
  makeTempDir,
  removeDir,
  startGitServer,
  type TestGitServer,
} from '../../../test/kits/coordinator/git/git-test-kit.js';

let tmp: string;
let root: string;
let host: GitHost;
let server: TestGitServer;
/** Every git command the host runs, one line each (the host's git is a logging wrapper). */
let gitLog: string;

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-v2-http');
  root = join(tmp, 'repos');
  gitLog = join(tmp, 'git.log');
  const wrapper = join(tmp, 'logging-git');
  await writeFile(wrapper, `#!/bin/sh\necho "$*" >> '${gitLog}'\nexec git "$@"\n`, { mode: 0o755 });
  await writeFile(gitLog, '');
  host = createGitHost({ root, logger: silentLogger(), gitBinary: wrapper });
  server = await startGitServer(host, { allowPush: true });
  const work = join(tmp, 'work');
  await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
  await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', 'one']);
  await git(tmp, work, ['tag', '-a', 'v1', '-m', 'v1']);
  await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', 'two']);
  await host.createRepository('acme/app', 'main');
  await git(tmp, work, ['push', '-q', `${server.baseUrl}/acme/app.git`, 'main', 'v1']);
  await host.createPipelineRef('acme/app', 7, await git(tmp, work, ['rev-parse', 'main']));
});

afterAll(async () => {
  await server.close();
  host.close();
  await removeDir(tmp);
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const COMPARED_HEADERS = ['content-type', 'cache-control', 'expires', 'pragma'];

function pick(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(COMPARED_HEADERS.map((name) => [name, String(headers[name] ?? '')]));
}

function ask(path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  const url = new URL(server.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: body ? 'POST' : 'GET',
        auth: 'alice:secret-password',
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: pick(res.headers), body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What `git http-backend` itself answers, run as a CGI program the way the host runs it. */
function httpBackend(pathInfo: string, query: string, body?: Buffer): Answer {
  const execPath = execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim();
  const out = execFileSync(join(execPath, 'git-http-backend'), [], {
    input: body ?? Buffer.alloc(0),
    env: gitEnv({
      GATEWAY_INTERFACE: 'CGI/1.1',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `/acme/app.git${pathInfo}`,
      REQUEST_METHOD: body ? 'POST' : 'GET',
      QUERY_STRING: query,
      REMOTE_USER: 'alice',
      GIT_PROTOCOL: 'version=2',
      ...(body ? { CONTENT_TYPE: 'application/x-git-upload-pack-request' } : {}),
    }),
  });
  const end = out.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of out.subarray(0, end).toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^(\d+)/.exec(headers['status'] ?? '200')?.[1]);
  return { status, headers: pick(headers), body: out.subarray(end + 4) };
}

async function gitCommandsRun(): Promise<string[]> {
  return (await readFile(gitLog, 'utf8')).split('\n').filter((line) => line !== '');
}

const V2 = { 'Git-Protocol': 'version=2' };
const LS_REFS = Buffer.concat([
  pktLine('command=ls-refs\n'),
  pktLine('agent=git/2.39.5\n'),
  pktLine('object-format=sha1\n'),
  Buffer.from('0001', 'ascii'),
  pktLine('peel\n'),
  pktLine('symrefs\n'),
  pktLine('unborn\n'),
  pktLine('ref-prefix refs/pipelines/7\n'),
  pktLine('ref-prefix refs/heads/main\n'),
  pktLine('ref-prefix refs/tags/\n'),
  FLUSH_PKT,
]);

describe('protocol v2 without http-backend', () => {
  it('answers GET info/refs as http-backend does', async () => {
    const ours = await ask('/acme/app.git/info/refs?service=git-upload-pack', V2);
    expect(ours).toEqual(httpBackend('/info/refs', 'service=git-upload-pack'));
    expect(ours.body.toString('utf8')).toMatch(/^000eversion 2\n/);
  });

  it('answers POST ls-refs as http-backend does', async () => {
    const ours = await ask(
      '/acme/app.git/git-upload-pack',
      { ...V2, 'Content-Type': 'application/x-git-upload-pack-request' },
      LS_REFS,
    );
    expect(ours).toEqual(httpBackend('/git-upload-pack', '', LS_REFS));
    expect(ours.body.toString('utf8')).toContain(' refs/pipelines/7\n');
  });

  it("serves real git's ls-remote, the runner's fetch and a shallow clone with one git process per ls-refs", async () => {
    await writeFile(gitLog, '');
    const url = `${server.baseUrl}/acme/app.git`;
    const v0 = await git(tmp, tmp, ['-c', 'protocol.version=0', 'ls-remote', url]);
    expect(await gitCommandsRun()).toEqual([]);
    const v2 = await git(tmp, tmp, ['-c', 'protocol.version=2', 'ls-remote', url]);
    expect(v2).toBe(v0);
    expect(v2).toContain('refs/pipelines/7');
    const runner = join(tmp, 'runner');
    await git(tmp, tmp, ['init', '-q', runner]);
    await git(tmp, runner, [
      '-c',
      'protocol.version=2',
      'fetch',
      '-q',
      '--depth',
      '20',
      '--prune',
      url,
      '+refs/pipelines/7:refs/pipelines/7',
      '+refs/heads/main:refs/remotes/origin/main',
    ]);
    expect(await git(tmp, runner, ['rev-parse', 'refs/pipelines/7'])).toBe(
      await git(tmp, runner, ['rev-parse', 'refs/remotes/origin/main']),
    );
    const clone = join(tmp, 'clone');
    await git(tmp, tmp, ['-c', 'protocol.version=2', 'clone', '-q', '--depth', '1', url, clone]);
    expect(await git(tmp, clone, ['tag', '--list'])).toBe('');
    expect(await git(tmp, clone, ['rev-list', '--count', 'HEAD'])).toBe('1');
    await server.settled();
    const commands = await gitCommandsRun();
    // ls-remote, the fetch (a second time for the tag it follows) and the clone each list refs
    // with for-each-ref; the advertisement is read at most once while the config is unchanged.
    expect(commands.filter((c) => c.includes('for-each-ref')).length).toBeGreaterThanOrEqual(3);
    expect(commands.filter((c) => c.startsWith('upload-pack ')).length).toBeLessThanOrEqual(1);
    expect(commands.filter((c) => !/^upload-pack |for-each-ref|config --get-regexp/.test(c))).toEqual([]);
  });

  it('leaves an empty repository (unborn HEAD) to http-backend', async () => {
    await host.createRepository('acme/empty', 'main');
    const result = await gitCli(tmp, tmp, [
      '-c',
      'protocol.version=2',
      'clone',
      `${server.baseUrl}/acme/empty.git`,
      join(tmp, 'empty-clone'),
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('empty repository');
    expect(await git(tmp, join(tmp, 'empty-clone'), ['symbolic-ref', 'HEAD'])).toBe('refs/heads/main');
  });
});
