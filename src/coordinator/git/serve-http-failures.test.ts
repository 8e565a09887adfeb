import { writeFile } from 'node:fs/promises';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGitHost, type GitHostOptions } from './create-git-host.js';
import type { ServeHttpOptions } from './git-host.js';
import {
  captureLogger,
  git,
  gitCli,
  startGitServer,
  type TestGitServer,
} from '../../../test/kits/coordinator/git/git-test-kit.js';
import { useServedGitHost } from '../../../test/kits/coordinator/git/served-git-host.js';

const served = useServedGitHost('flotilla-git-http-failures', { allowPush: true });

afterEach(() => served.server.settled());

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** A request to `via` as its user, left open for the caller to write and end. */
function openRequest(
  via: TestGitServer,
  path: string,
  method: string,
  headers?: Record<string, string>,
): ClientRequest {
  const url = new URL(via.baseUrl);
  return request({
    host: url.hostname,
    port: url.port,
    path,
    method,
    auth: `${url.username}:${url.password}`,
    headers,
  });
}

function rawRequest(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = openRequest(served.server, path, init.method ?? 'GET', init.headers);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const UPLOAD_PACK_REQUEST = 'application/x-git-upload-pack-request';

/**
 * Runs `act` against a second server over the same repositories, whose host has `hostOptions` and
 * a capturing logger; then waits for its requests and returns the messages it logged.
 */
async function loggedBy(
  hostOptions: Omit<GitHostOptions, 'root' | 'logger'>,
  serveOptions: Pick<ServeHttpOptions, 'onPush'>,
  act: (via: TestGitServer) => Promise<void>,
): Promise<unknown[]> {
  const { logger, records } = captureLogger();
  const host = createGitHost({ root: served.root, logger, ...hostOptions });
  const via = await startGitServer(host, { allowPush: true, ...serveOptions });
  try {
    await act(via);
    await via.settled();
    return records.map((r) => r.msg);
  } finally {
    await via.close();
  }
}

describe('bad requests', () => {
  it('answers 400 for bad paths and 404 for unknown repositories', async () => {
    await served.host.createRepository('acme/exists', 'main');
    expect((await rawRequest('/acme/..%2F..%2Fetc.git/info/refs')).status).toBe(400);
    expect((await rawRequest('/single.git/info/refs')).status).toBe(400);
    expect((await rawRequest('/acme/exists.git/../../config')).status).toBe(400);
    expect((await rawRequest('/acme/exists.git/objects/../config')).status).toBe(400);
    expect((await rawRequest('/acme/missing.git/info/refs?service=git-upload-pack')).status).toBe(404);
    const advert = await rawRequest('/acme/exists.git/info/refs?service=git-upload-pack');
    expect(advert.status).toBe(200);
    expect(advert.body).toContain('# service=git-upload-pack');
  });

  it('survives a garbage request body', async () => {
    await served.host.createRepository('acme/garbage', 'main');
    const answer = await rawRequest('/acme/garbage.git/git-upload-pack', {
      method: 'POST',
      headers: { 'Content-Type': UPLOAD_PACK_REQUEST },
      body: 'this is not pkt-line',
    }).catch(() => ({ status: -1, body: '' }));
    expect(answer.status).not.toBe(0);
    await served.server.settled();
    expect((await rawRequest('/acme/garbage.git/info/refs?service=git-upload-pack')).status).toBe(200);
  });

  it('kills the backend when the client disconnects mid-request', async () => {
    await served.host.createRepository('acme/disconnect', 'main');
    const logged = await loggedBy({}, {}, async (via) => {
      const req = openRequest(via, '/acme/disconnect.git/git-upload-pack', 'POST', {
        'Content-Type': UPLOAD_PACK_REQUEST,
        'Content-Length': '100000',
      });
      req.on('error', () => undefined);
      req.write('0032want ');
      await waitFor(() => via.requests.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      req.destroy();
      await via.settled();
      const listed = await gitCli(served.tmp, served.tmp, [
        'ls-remote',
        `${via.baseUrl}/acme/disconnect.git`,
      ]);
      expect(listed.code).toBe(0);
    });
    expect(logged).toContain('git http-backend stopped: client disconnected');
  });

  it('answers 500 when git cannot run', async () => {
    await served.host.createRepository('acme/broken', 'main');
    const gitBinary = join(served.tmp, 'no-such-git');
    const logged = await loggedBy({ gitBinary }, {}, async (via) => {
      const result = await gitCli(served.tmp, served.tmp, ['ls-remote', `${via.baseUrl}/acme/broken.git`]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/500/);
    });
    expect(logged).toContain('git http request failed');
  });

  it('answers 500 when the backend program fails to start', async () => {
    // A stand-in "git" whose exec path has no http-backend in it.
    const fakeGit = join(served.tmp, 'fake-git');
    await writeFile(fakeGit, `#!/bin/sh\necho "${join(served.tmp, 'empty-exec-path')}"\n`, { mode: 0o755 });
    await served.host.createRepository('acme/no-backend', 'main');
    const logged = await loggedBy({ gitBinary: fakeGit }, {}, async (via) => {
      const result = await gitCli(served.tmp, served.tmp, [
        'ls-remote',
        `${via.baseUrl}/acme/no-backend.git`,
      ]);
      expect(result.stderr).toMatch(/500/);
    });
    expect(logged).toContain('git http-backend failed');
  });

  it('logs a failing onPush without failing the push', async () => {
    await served.host.createRepository('acme/on-push-fails', 'main');
    const { tmp } = served;
    const work = join(tmp, 'on-push-fails');
    const onPush = () => Promise.reject(new Error('handler exploded'));
    const logged = await loggedBy({}, { onPush }, async (via) => {
      await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
      await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', 'empty']);
      await git(tmp, work, ['push', '-q', `${via.baseUrl}/acme/on-push-fails.git`, 'main']);
    });
    expect(logged).toContain('git push handler failed');
    expect(await served.host.resolveRef('acme/on-push-fails', 'main')).toBe(
      await git(tmp, work, ['rev-parse', 'HEAD']),
    );
  });

  it.each([
    ['protocol v0/v1', {}],
    ['protocol v2 (whose small bodies the coordinator reads itself)', { 'Git-Protocol': 'version=2' }],
  ])('stops a request that outlives the timeout and answers 500 (%s)', async (_what, extra) => {
    const repo = `acme/timeout-${Object.keys(extra).length}`;
    await served.host.createRepository(repo, 'main');
    let status = 0;
    const logged = await loggedBy({ httpTimeoutMs: 300 }, {}, async (via) => {
      status = await new Promise<number>((resolve) => {
        const req = openRequest(via, `/${repo}.git/git-upload-pack`, 'POST', {
          'Content-Type': UPLOAD_PACK_REQUEST,
          'Content-Length': '1000',
          ...extra,
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', () => resolve(-1));
        req.write('0032want ');
      });
    });
    expect(status).toBe(500);
    expect(logged).toContain('git http-backend timed out');
  });
});
