/**
 * An HTTP proxy in front of the coordinator that forwards everything, except that it answers the
 * first trace PATCH itself with 202 (as if stored) without forwarding it. The runner's next PATCH
 * then starts past the coordinator's size, gets 416, and must resend the lost bytes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DroppingProxy {
  url: string;
  dropped: number;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startDroppingProxy(target: string): Promise<DroppingProxy> {
  const upstream = new URL(target);
  const state = { dropped: 0 };
  const server = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      const isTrace = req.method === 'PATCH' && /\/trace(\?|$)/.test(req.url ?? '');
      if (isTrace && state.dropped === 0 && body.length > 0) {
        state.dropped++;
        const start = Number(/^(\d+)-/.exec(String(req.headers['content-range']))?.[1] ?? 0);
        res.writeHead(202, {
          Range: `0-${start + body.length}`,
          'Job-Status': 'running',
          'X-GitLab-Trace-Update-Interval': '1',
        });
        res.end();
        return;
      }
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get dropped() {
      return state.dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
