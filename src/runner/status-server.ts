/**
 * The manager's HTTP status endpoint on `listen_address`: `/metrics` (Prometheus, GET/HEAD only),
 * `/debug/jobs/list` (gitlab-runner's format, X-List-Version: 2), `/-/health`, and `/-/ready` (also
 * gitlab-runner's `/health/ready`), which answers 503 once the manager is stopping.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

import type { Clock } from '../shared/clock.js';
import { debugJobLine, type RunningJob } from './running-jobs.js';

export interface StatusServerOptions {
  listenAddress: string;
  registry: Registry;
  clock: Clock;
  runningJobs(): readonly RunningJob[];
  ready(): boolean;
}

export interface StatusServer {
  /** `host:port` actually bound (port 0 resolves to the real port). */
  readonly address: string;
  close(): Promise<void>;
}

export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host === '' ? undefined : host, port: Number(address.slice(i + 1)) };
}

async function handle(
  options: StatusServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const text = (status: number, body: string, headers: Record<string, string> = {}): void => {
    res
      .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers })
      .end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
  switch (path) {
    case '/metrics': {
      const body = await options.registry.metrics();
      return text(200, body, { 'content-type': options.registry.contentType });
    }
    case '/debug/jobs/list': {
      const now = options.clock.monotonic();
      const lines = options.runningJobs().map((job) => debugJobLine(job, now) + '\n');
      return text(200, lines.join(''), { 'x-list-version': '2' });
    }
    case '/-/health':
      return text(200, 'ok\n');
    case '/-/ready':
    case '/health/ready':
      return options.ready() ? text(200, 'ready\n') : text(503, 'not ready\n');
    default:
      return text(404, 'not found\n');
  }
}

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const server = createServer((req, res) => {
    handle(options, req, res).catch(() => res.writeHead(500).end());
  });
  const { host, port } = parseListenAddress(options.listenAddress);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
