/**
 * The manager's HTTP status endpoint on `listen_address`: `/metrics` (Prometheus, GET/HEAD only),
 * `/debug/jobs/list` (gitlab-runner's format, X-List-Version: 2), `/-/health`, `/-/ready` (also
 * gitlab-runner's `/health/ready`), which answers 503 once the manager is stopping, and
 * `/-/discovery/targets`, Prometheus HTTP SD listing this manager (see discovery.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

import type { RunnerInfo } from '../api/runner-api.js';
import { HTTP_SD_CONTENT_TYPE, type TargetGroup } from '../observability/http-sd.js';
import type { Clock } from '../shared/clock.js';
import { managerTargets } from './discovery.js';
import { debugJobLine, type RunningJob } from './running-jobs.js';

export interface StatusServerOptions {
  listenAddress: string;
  registry: Registry;
  clock: Clock;
  runningJobs(): readonly RunningJob[];
  ready(): boolean;
  /** More SD target groups: the autoscaled machines' exporters; default none. */
  extraTargets?(): Promise<readonly TargetGroup[]>;
}

export interface StatusServer {
  /** `host:port` actually bound (port 0 resolves to the real port). */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * The runner `info` sent with every job request, plus `config.metrics_address` (the status
 * server's bound address) when it listens, so the coordinator can list this manager for
 * Prometheus service discovery. GitLab ignores the unknown key.
 */
export function withMetricsAddress(info: RunnerInfo, address: string | undefined): RunnerInfo {
  return address ? { ...info, config: { ...info.config, metrics_address: address } } : info;
}

export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host === '' ? undefined : host, port: Number(address.slice(i + 1)) };
}

function boundAddress(req: IncomingMessage): string {
  const port = req.socket.localPort ?? 0;
  const host = req.socket.localAddress ?? '';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
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
    case '/-/discovery/targets': {
      const groups = await managerTargets({
        ...options,
        address: boundAddress(req),
        hostHeader: req.headers.host,
      });
      return text(200, JSON.stringify(groups), { 'content-type': HTTP_SD_CONTENT_TYPE });
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
