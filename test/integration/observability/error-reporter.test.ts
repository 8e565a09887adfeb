/**
 * sentry_dsn: errors logged by the runner reach a Sentry-compatible store endpoint (a local HTTP
 * server that records what it receives) with job and runner context and with secrets masked.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createErrorReporter, parseDsn } from '../../../src/observability/error-reporter.js';
import { reportingLogger } from '../../../src/observability/reporting-logger.js';
import { systemClock } from '../../../src/shared/clock.js';
import { createLogger, silentLogger } from '../../../src/shared/logger.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, any>;
}

describe('error reporter (sentry_dsn)', () => {
  let server: Server;
  let base: string;
  const received: Received[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let data = '';
      req.on('data', (d: Buffer) => (data += d.toString()));
      req.on('end', () => {
        received.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: JSON.parse(data),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"x"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('parses DSNs into the store endpoint', () => {
    expect(parseDsn('https://abc@o1.sentry.example/42')).toEqual({
      storeUrl: 'https://o1.sentry.example/api/42/store/',
      publicKey: 'abc',
      secretKey: undefined,
      projectId: '42',
    });
    expect(parseDsn('http://k:s@127.0.0.1:9000/prefix/7').storeUrl).toBe(
      'http://127.0.0.1:9000/prefix/api/7/store/',
    );
    expect(() => parseDsn('https://sentry.example/42')).toThrow(/KEY@host/);
  });

  it('sends logged errors with runner and job context, secrets masked', async () => {
    received.length = 0;
    const reporter = createErrorReporter({
      dsn: `http://publickey@${base}/42`,
      clock: systemClock,
      logger: silentLogger(),
      release: '1.2.3',
    });
    const logger = reportingLogger(createLogger({ level: 'fatal' }), reporter).child({ runner: 'abcdef123' });
    logger.info({ jobId: 1 }, 'not an error');
    logger.error(
      {
        jobId: 42,
        err: new Error('clone of https://gitlab-ci-token:glcbt-secretjobtoken@git.example/x.git failed'),
        token: 'glrt-verysecrettoken',
        url: 'http://127.0.0.1/api?private_token=hunter2hunter2',
      },
      'job crashed',
    );
    await reporter.flush();
    expect(received).toHaveLength(1);
    const [event] = received;
    expect(event?.method).toBe('POST');
    expect(event?.url).toBe('/api/42/store/');
    expect(event?.headers['x-sentry-auth']).toMatch(
      /^Sentry sentry_version=7, sentry_client=flotilla\/1\.2\.3, sentry_key=publickey$/,
    );
    expect(event?.body).toMatchObject({
      level: 'error',
      release: '1.2.3',
      message: { formatted: 'job crashed' },
      tags: { runner: 'abcdef123', job: '42' },
      extra: { token: '[MASKED]', url: 'http://127.0.0.1/api?private_token=[MASKED]' },
    });
    expect(event?.body['event_id']).toMatch(/^[0-9a-f]{32}$/);
    const text = JSON.stringify(event?.body);
    expect(text).not.toMatch(/secretjobtoken|verysecrettoken|hunter2/);
    expect(event?.body['exception'].values[0]).toMatchObject({
      type: 'Error',
      value: expect.stringContaining('https://[MASKED]@git.example'),
    });
  });

  it('stops at the per-minute cap, follows setDsn, and never throws when the tracker is down', async () => {
    received.length = 0;
    const reporter = createErrorReporter({
      dsn: `http://k@${base}/1`,
      clock: systemClock,
      logger: silentLogger(),
      release: 'r',
      maxPerMinute: 2,
    });
    for (let i = 0; i < 5; i++) reporter.report({ message: `e${i}` });
    await reporter.flush();
    expect(received.map((r) => r.body['message'].formatted)).toEqual(['e0', 'e1']);
    reporter.setDsn(undefined);
    reporter.report({ message: 'off' });
    reporter.setDsn('http://k@127.0.0.1:1/1');
    const down = createErrorReporter({
      dsn: 'http://k@127.0.0.1:1/1',
      clock: systemClock,
      logger: silentLogger(),
      release: 'r',
    });
    down.report({ message: 'lost' });
    await expect(down.flush()).resolves.toBeUndefined();
    await reporter.flush();
    expect(received).toHaveLength(2);
  });
});
