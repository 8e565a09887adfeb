/**
 * A server that answers the throughput part's three Runner-API routes from memory and does nothing
 * else: no store, no scheduling, no authentication. Run against the same client process as the real
 * coordinator, it measures what this machine allows for the clients plus a bare `node:http` server,
 * the ceiling of the part's jobs/s here. `POST /jobs/request` answers 201 with a body of the size of
 * the real coordinator's job payload while jobs are left, then holds the request until the process
 * ends (a long poll); `PATCH /jobs/:id/trace` answers 202 with the range the client sent; `PUT
 * /jobs/:id` answers 200. Settings come as JSON in BENCH_NULL; prints `LISTENING <url>`.
 */
import http from 'node:http';

export interface NullCoordinatorSettings {
  /** Jobs handed out, then every job request is held. */
  jobs: number;
  /** Size of each 201 body (the real coordinator's job payload for the bench's no-op job). */
  payloadBytes: number;
}

const settings = JSON.parse(process.env['BENCH_NULL'] ?? '{}') as NullCoordinatorSettings;
const held: http.ServerResponse[] = [];
let handedOut = 0;

/** A job payload of `payloadBytes` (the client reads `id` and `token` from it, like from a real one). */
function payload(id: number): string {
  const head = JSON.stringify({ id, token: `glcbt-null-${id}`, pad: '' });
  return `${head.slice(0, -2)}${'x'.repeat(Math.max(0, settings.payloadBytes - head.length))}"}`;
}

function answer(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method === 'POST') {
    if (handedOut >= settings.jobs) {
      held.push(res);
      return;
    }
    handedOut += 1;
    const body = payload(handedOut);
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } else if (req.method === 'PATCH') {
    const range = /^(\d+)-(\d+)$/.exec(req.headers['content-range'] ?? '');
    res.writeHead(202, { range: `0-${range ? Number(range[2]) + 1 : 0}`, 'content-length': 0 });
    res.end();
  } else {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 });
    res.end('200');
  }
}

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => answer(req, res));
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`LISTENING http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => {
  for (const res of held) res.destroy();
  process.exit(0);
});
