import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { createGitHost } from './create-git-host.js';
import type { GitHost } from './git-host.js';
import {
  captureLogger,
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

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-git-http-failures');
  root = join(tmp, 'repos');
  host = createGitHost({ root, logger: silentLogger() });
  server = await startGitServer(host, { allowPush: true });
});

afterAll(async () => {
  await server.close();
  await removeDir(tmp);
});

afterEach(() => server.settled());

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

function rawRequest(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const url = new URL(server.baseUrl);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: init.method ?? 'GET',
        auth: `${url.username}:${url.password}`,
        headers: init.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('bad requests', () => {
  it('answers 400 for bad paths and 404 for unknown repositories', async () => {
    await host.createRepository('acme/exists', 'main');
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
    await host.createRepository('acme/garbage', 'main');
    const answer = await rawRequest('/acme/garbage.git/git-upload-pack', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-git-upload-pack-request' },
      body: 'this is not pkt-line',
    }).catch(() => ({ status: -1, body: '' }));
    expect(answer.status).not.toBe(0);
    await server.settled();
    expect((await rawRequest('/acme/garbage.git/info/refs?service=git-upload-pack')).status).toBe(200);
  });

  it('kills the backend when the client disconnects mid-request', async () => {
    const { logger, records } = captureLogger();
    const watched = createGitHost({ root, logger });
    const watchedServer = await startGitServer(watched, { allowPush: true });
    try {
      await host.createRepository('acme/disconnect', 'main');
      const url = new URL(watchedServer.baseUrl);
      const req = request({
        host: url.hostname,
        port: url.port,
        path: '/acme/disconnect.git/git-upload-pack',
        method: 'POST',
        auth: `${url.username}:${url.password}`,
        headers: { 'Content-Type': 'application/x-git-upload-pack-request', 'Content-Length': '100000' },
      });
      req.on('error', () => undefined);
      req.write('0032want ');
      await waitFor(() => watchedServer.requests.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      req.destroy();
      await watchedServer.settled();
      expect(records.map((r) => r.msg)).toContain('git http-backend stopped: client disconnected');
      const listed = await gitCli(tmp, tmp, ['ls-remote', `${watchedServer.baseUrl}/acme/disconnect.git`]);
      expect(listed.code).toBe(0);
    } finally {
      await watchedServer.close();
    }
  });

  it('answers 500 when git cannot run', async () => {
    const { logger, records } = captureLogger();
    const broken = createGitHost({ root, logger, gitBinary: join(tmp, 'no-such-git') });
    const brokenServer = await startGitServer(broken, { allowPush: true });
    try {
      await host.createRepository('acme/broken', 'main');
      const result = await gitCli(tmp, tmp, ['ls-remote', `${brokenServer.baseUrl}/acme/broken.git`]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/500/);
      await brokenServer.settled();
      expect(records.map((r) => r.msg)).toContain('git http request failed');
    } finally {
      await brokenServer.close();
    }
  });

  it('answers 500 when the backend program fails to start', async () => {
    // A stand-in "git" whose exec path has no http-backend in it.
    const fakeGit = join(tmp, 'fake-git');
    await writeFile(fakeGit, `#!/bin/sh\necho "${join(tmp, 'empty-exec-path')}"\n`, { mode: 0o755 });
    const { logger, records } = captureLogger();
    const broken = createGitHost({ root, logger, gitBinary: fakeGit });
    const brokenServer = await startGitServer(broken, { allowPush: true });
    try {
      await host.createRepository('acme/no-backend', 'main');
      const result = await gitCli(tmp, tmp, ['ls-remote', `${brokenServer.baseUrl}/acme/no-backend.git`]);
      expect(result.stderr).toMatch(/500/);
      await brokenServer.settled();
      expect(records.map((r) => r.msg)).toContain('git http-backend failed');
    } finally {
      await brokenServer.close();
    }
  });

  it('logs a failing onPush without failing the push', async () => {
    const { logger, records } = captureLogger();
    const watched = createGitHost({ root, logger });
    const throwing = await startGitServer(watched, {
      allowPush: true,
      onPush: () => Promise.reject(new Error('handler exploded')),
    });
    try {
      await host.createRepository('acme/on-push-fails', 'main');
      const work = join(tmp, 'on-push-fails');
      await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
      await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', 'empty']);
      await git(tmp, work, ['push', '-q', `${throwing.baseUrl}/acme/on-push-fails.git`, 'main']);
      await throwing.settled();
      expect(records.map((r) => r.msg)).toContain('git push handler failed');
      expect(await host.resolveRef('acme/on-push-fails', 'main')).toBe(
        await git(tmp, work, ['rev-parse', 'HEAD']),
      );
    } finally {
      await throwing.close();
    }
  });

  it('stops a request that outlives the timeout and answers 500', async () => {
    const { logger, records } = captureLogger();
    const slow = createGitHost({ root, logger, httpTimeoutMs: 300 });
    const slowServer = await startGitServer(slow, { allowPush: true });
    try {
      await host.createRepository('acme/timeout', 'main');
      const url = new URL(slowServer.baseUrl);
      const status = await new Promise<number>((resolve) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: '/acme/timeout.git/git-upload-pack',
            method: 'POST',
            auth: `${url.username}:${url.password}`,
            headers: { 'Content-Type': 'application/x-git-upload-pack-request', 'Content-Length': '1000' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', () => resolve(-1));
        req.write('0032want ');
      });
      expect(status).toBe(500);
      await slowServer.settled();
      expect(records.map((r) => r.msg)).toContain('git http-backend timed out');
    } finally {
      await slowServer.close();
    }
  });
});
