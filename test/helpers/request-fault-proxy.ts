/**
 * An HTTP proxy on loopback that forwards every request to one server (a coordinator, a cache
 * server), except the next N requests that match a pattern (`METHOD /path`): those are dropped,
 * their connection closed before any answer, as a flaky network or a load balancer would. Unlike
 * the TCP proxy (flaky-proxy.ts), it works per request, so a request reusing a kept-alive
 * connection is hit as well. The Host header is forwarded as sent (pre-signed S3 URLs sign it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RequestFaultProxy {
  url: string;
  /** `host:port` of the proxy (as `[runners.cache.s3] ServerAddress` takes it). */
  address: string;
  /** Requests forwarded or dropped so far that matched the pattern of `drop`, by outcome. */
  readonly matched: { dropped: number; forwarded: number };
  /** Drops the next `count` requests whose `METHOD /path` matches `pattern`. */
  drop(pattern: RegExp, count: number): void;
  close(): Promise<void>;
}

export async function startRequestFaultProxy(target: {
  host: string;
  port: number;
}): Promise<RequestFaultProxy> {
  const state = { pattern: null as RegExp | null, toDrop: 0, dropped: 0, forwarded: 0 };
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const line = `${req.method ?? 'GET'} ${req.url ?? '/'}`;
    const matches = state.pattern?.test(line) ?? false;
    if (matches && state.toDrop > 0) {
      state.toDrop--;
      state.dropped++;
      req.socket.destroy();
      return;
    }
    if (matches) state.forwarded++;
    const upstream = http.request(
      {
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  // long polls of the Runner API are held for up to a minute
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    get matched() {
      return { dropped: state.dropped, forwarded: state.forwarded };
    },
    drop(pattern, count) {
      state.pattern = pattern;
      state.toDrop = count;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
