import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { createGitHost } from './create-git-host.js';
import type { GitHost, RefUpdate, ServeHttpOptions } from './git-host.js';
import {
  captureLogger,
  git,
  gitCli,
  makeTempDir,
  removeDir,
  startGitServer,
  type TestGitServer,
} from './git-test-kit.js';

const ZERO = '0'.repeat(40);
let tmp: string;
let root: string;
let host: GitHost;
let server: TestGitServer;
const pushes: RefUpdate[][] = [];
const options: Pick<ServeHttpOptions, 'allowPush' | 'onPush'> = {
  allowPush: true,
  onPush: (updates) => {
    pushes.push(updates);
  },
};

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-git-http');
  root = join(tmp, 'repos');
  host = createGitHost({ root, logger: silentLogger() });
  server = await startGitServer(host, options);
});

afterAll(async () => {
  await server.close();
  await removeDir(tmp);
});

afterEach(async () => {
  await server.settled();
  options.allowPush = true;
  pushes.length = 0;
});

let workCount = 0;
async function newWork(): Promise<string> {
  const work = join(tmp, `work-${++workCount}`);
  await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
  return work;
}

async function commit(work: string, path: string, content: string): Promise<string> {
  await mkdir(join(work, path, '..'), { recursive: true });
  await writeFile(join(work, path), content);
  await git(tmp, work, ['add', '-A']);
  await git(tmp, work, ['commit', '-q', '-m', `change ${path}`]);
  return git(tmp, work, ['rev-parse', 'HEAD']);
}

function repoUrl(fullPath: string): string {
  return `${server.baseUrl}/${fullPath}.git`;
}

/** A pushed repository: main (2 commits), feature (1 more), annotated tag v1 on main. */
async function seedRepository(
  fullPath: string,
): Promise<{ work: string; main: string; feature: string; tag: string }> {
  await host.createRepository(fullPath, 'main');
  const work = await newWork();
  await commit(work, 'README.md', 'hello');
  const main = await commit(work, '.gitlab-ci.yml', 'test:\n  script: true\n');
  await git(tmp, work, ['tag', '-a', 'v1', '-m', 'v1']);
  await git(tmp, work, ['checkout', '-q', '-b', 'feature']);
  const feature = await commit(work, 'src/feature.txt', 'feature');
  await git(tmp, work, ['checkout', '-q', 'main']);
  await git(tmp, work, ['push', '-q', repoUrl(fullPath), 'main', 'feature', 'v1']);
  await server.settled();
  return { work, main, feature, tag: await git(tmp, work, ['rev-parse', 'v1']) };
}

describe('push', () => {
  it('receives a new repository and reports every created ref', async () => {
    const { main, feature, tag } = await seedRepository('acme/push');
    expect(pushes).toEqual([
      [
        { ref: 'refs/heads/feature', before: ZERO, after: feature },
        { ref: 'refs/heads/main', before: ZERO, after: main },
        { ref: 'refs/tags/v1', before: ZERO, after: tag },
      ],
    ]);
    expect(await host.listBranches('acme/push')).toEqual([
      { name: 'feature', sha: feature },
      { name: 'main', sha: main },
    ]);
  });

  it('reports updates and deletions with their old and new shas', async () => {
    const { work, main, feature } = await seedRepository('acme/update');
    pushes.length = 0;
    const next = await commit(work, 'more.txt', 'more');
    await git(tmp, work, ['push', '-q', repoUrl('acme/update'), 'main', ':feature']);
    await server.settled();
    expect(pushes).toEqual([
      [
        { ref: 'refs/heads/feature', before: feature, after: ZERO },
        { ref: 'refs/heads/main', before: main, after: next },
      ],
    ]);
    expect(await host.changedFiles('acme/update', main, next)).toEqual(['more.txt']);
  });

  it('does not call onPush for a push that changes nothing', async () => {
    const { work } = await seedRepository('acme/noop');
    pushes.length = 0;
    await git(tmp, work, ['push', '-q', repoUrl('acme/noop'), 'main']);
    await server.settled();
    expect(pushes).toEqual([]);
  });

  it('reports concurrent pushes to one repository separately', async () => {
    const { work } = await seedRepository('acme/concurrent');
    pushes.length = 0;
    const branches = ['b1', 'b2', 'b3'];
    for (const b of branches) await git(tmp, work, ['branch', b]);
    await Promise.all(branches.map((b) => git(tmp, work, ['push', '-q', repoUrl('acme/concurrent'), b])));
    await server.settled();
    expect(pushes.map((p) => p.map((u) => u.ref)).sort()).toEqual(branches.map((b) => [`refs/heads/${b}`]));
  });

  it('answers 403 without running git when pushing is not allowed', async () => {
    const { work, main } = await seedRepository('acme/readonly');
    options.allowPush = false;
    pushes.length = 0;
    await commit(work, 'blocked.txt', 'no');
    const result = await gitCli(tmp, work, ['push', repoUrl('acme/readonly'), 'main']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/403/);
    expect(await host.resolveRef('acme/readonly', 'main')).toBe(main);
    expect(pushes).toEqual([]);
    expect(server.requests.at(-1)?.status).toBe(403);
  });

  it('rejects pushes to pipeline refs', async () => {
    const { work } = await seedRepository('acme/hidden');
    const result = await gitCli(tmp, work, ['push', repoUrl('acme/hidden'), 'main:refs/pipelines/9']);
    expect(result.code).not.toBe(0);
    expect(await host.resolveRef('acme/hidden', 'refs/pipelines/9')).toBeNull();
  });
});

describe('fetch', () => {
  it.each(['0', '2'])('clones every branch and tag back with protocol.version=%s', async (version) => {
    const fullPath = `acme/clone-v${version}`;
    const { work } = await seedRepository(fullPath);
    const clone = join(tmp, `clone-v${version}`);
    await git(tmp, tmp, [
      '-c',
      `protocol.version=${version}`,
      'clone',
      '-q',
      '--mirror',
      repoUrl(fullPath),
      clone,
    ]);
    const refs = ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags'];
    expect(await git(tmp, clone, refs)).toBe(await git(tmp, work, refs));
    const protocols = server.requests
      .filter((r) => r.url.startsWith(`/${fullPath}.git`))
      .map((r) => r.headers['git-protocol']);
    expect(protocols.includes('version=2')).toBe(version === '2');
  });

  it('serves shallow clones', async () => {
    const { main } = await seedRepository('acme/shallow');
    const clone = join(tmp, 'shallow');
    await git(tmp, tmp, ['clone', '-q', '--depth', '1', '--branch', 'main', repoUrl('acme/shallow'), clone]);
    expect(await git(tmp, clone, ['rev-parse', 'HEAD'])).toBe(main);
    expect(await git(tmp, clone, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(await git(tmp, clone, ['rev-parse', '--is-shallow-repository'])).toBe('true');
  });

  it.each(['0', '2'])('inflates gzip-compressed requests with protocol.version=%s', async (version) => {
    // Git compresses request bodies over 1 KiB: 40 annotated tags make 40 "want" lines.
    const fullPath = `acme/gzip-v${version}`;
    const { work } = await seedRepository(fullPath);
    const head = await git(tmp, work, ['rev-parse', 'HEAD']);
    const tagger = 'tagger T <t@example.test> 1700000000 +0000';
    const stream = Array.from(
      { length: 40 },
      (_, i) => `tag t${i}\nfrom ${head}\n${tagger}\ndata 2\nt${i % 10}\n`,
    );
    await git(tmp, work, ['fast-import', '--quiet'], stream.join(''));
    await git(tmp, work, ['push', '-q', repoUrl(fullPath), '--tags']);
    const clone = join(tmp, `gzip-v${version}`);
    await git(tmp, tmp, [
      '-c',
      `protocol.version=${version}`,
      'clone',
      '-q',
      '--mirror',
      repoUrl(fullPath),
      clone,
    ]);
    const refs = ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/tags'];
    expect(await git(tmp, clone, refs)).toBe(await git(tmp, work, refs));
    const posts = server.requests.filter(
      (r) => r.method === 'POST' && r.url === `/${fullPath}.git/git-upload-pack`,
    );
    expect(posts.some((r) => r.headers['content-encoding'] === 'gzip')).toBe(true);
  });

  it.each(['0', '2'])('fetches refs/pipelines/<id> by refspec with protocol.version=%s', async (version) => {
    const fullPath = `acme/pipeline-ref-v${version}`;
    const { feature } = await seedRepository(fullPath);
    await host.createPipelineRef(fullPath, 5, feature);
    const runner = await newWork();
    await git(tmp, runner, [
      '-c',
      `protocol.version=${version}`,
      'fetch',
      '-q',
      '--depth',
      '1',
      repoUrl(fullPath),
      '+refs/pipelines/5:refs/pipelines/5',
    ]);
    expect(await git(tmp, runner, ['rev-parse', 'refs/pipelines/5'])).toBe(feature);
    expect(pushes.some((p) => p.some((u) => u.ref.startsWith('refs/pipelines/')))).toBe(false);
  });
});

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
});
