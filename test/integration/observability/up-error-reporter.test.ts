/**
 * `flotilla up` runs the coordinator and the runner manager in one process: `sentry_dsn` in the
 * runner's config.toml reports the errors of both (a runner entry it cannot run, a coordinator
 * request that fails with 500) to a Sentry-compatible store endpoint (a local HTTP server that
 * records what it receives), picked up on a live reload, with secrets masked.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startUp, type RunningUp } from '../../../src/cli/up-start.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { until } from './helpers.js';

interface Event {
  url: string;
  body: Record<string, any>;
}

describe('flotilla up reports errors of both parts to sentry_dsn', () => {
  let server: Server;
  let dsn = '';
  const events: Event[] = [];
  let tmp: { dir: string; remove: () => Promise<void> };
  let up: RunningUp | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let data = '';
      req.on('data', (d: Buffer) => (data += d.toString()));
      req.on('end', () => {
        events.push({ url: req.url ?? '', body: JSON.parse(data) as Record<string, any> });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"x"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dsn = `http://upkey@127.0.0.1:${(server.address() as AddressInfo).port}/7`;
    tmp = await tempDir('flotilla-up-sentry-');
    up = await startUp(
      { listen: '127.0.0.1:0', dataDir: tmp.dir, executor: 'shell', concurrent: '1' },
      silentLogger(),
    );
  });

  afterAll(async () => {
    await up?.manager.stop({ graceful: false });
    await up?.executors.stopFleets();
    await up?.coordinator.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await tmp?.remove();
  });

  it('reports a runner error once sentry_dsn is set by a live reload', async () => {
    const running = up!;
    const text = await readFile(running.configPath, 'utf8');
    const token = /token = "([^"]+)"/.exec(text)?.[1] ?? '';
    expect(token).not.toBe('');
    // A docker-autoscaler entry added by a reload: its fleet only starts with the manager, so the
    // manager logs an error and skips it.
    await writeFile(
      running.configPath,
      `sentry_dsn = "${dsn}"\n${text}\n[[runners]]\n  name = "late"\n  url = "${running.coordinator.url}"\n` +
        `  token = "${token}x"\n  executor = "docker-autoscaler"\n  [runners.autoscaler]\n    plugin = "local"\n`,
    );
    expect(await running.manager.reload()).toBe(true);
    const event = await until('the runner error to arrive', async () => {
      await running.reporter.flush();
      return events.find((e) => e.body['message']?.formatted === 'no such executor; runner entry skipped');
    });
    expect(event.url).toBe('/api/7/store/');
    expect(event.body['tags']).toMatchObject({ runner: expect.stringMatching(/^[A-Za-z0-9_-]+$/) });
    expect(JSON.stringify(event.body)).not.toContain(token);
  });

  it("reports the coordinator's failed requests through the same reporter", async () => {
    const running = up!;
    await running.coordinator.store.close();
    const res = await fetch(`${running.coordinator.url}/api/v4/projects`, {
      headers: { 'private-token': running.coordinator.rootToken },
    });
    expect(res.status).toBe(500);
    const event = await until('the coordinator error to arrive', async () => {
      await running.reporter.flush();
      return events.find((e) => e.body['message']?.formatted === 'request failed');
    });
    expect(event.body['level']).toBe('error');
    expect(event.body['extra']).toMatchObject({ url: '/api/v4/projects', method: 'GET' });
    expect(JSON.stringify(event.body)).not.toContain(running.coordinator.rootToken);
  });
});
