/**
 * A small HTTP server for the cloud emulators (test part only): routes by method and path pattern,
 * reads JSON bodies (and keeps the raw text, e.g. a form-encoded query), answers JSON or a given
 * text (e.g. XML), logs every request, and can hold an answer back (a lost answer).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface EmuRequest {
  method: string;
  path: string;
  params: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** The raw request body. */
  text: string;
}

export interface EmuAnswer {
  status: number;
  body?: unknown;
  /** A body sent as is (with its content-type in `headers`) instead of `body` as JSON. */
  text?: string;
  headers?: Record<string, string>;
}

export type Handler = (req: EmuRequest) => Promise<EmuAnswer> | EmuAnswer;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export interface EmuServer {
  url: string;
  /** Every request: method, path and the status answered. */
  log: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

async function readText(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

export async function startEmuServer(
  routes: Route[],
  before: (req: EmuRequest) => Promise<EmuAnswer | null> | EmuAnswer | null,
  notFound: (req: EmuRequest) => EmuAnswer,
): Promise<EmuServer> {
  const log: EmuServer['log'] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const text = await readText(req).catch(() => '');
      const r: EmuRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        params: [],
        query: url.searchParams,
        headers: req.headers,
        body: parseJson(text),
        text,
      };
      let answer: EmuAnswer | null = await before(r);
      if (!answer) {
        const route = routes.find((x) => x.method === r.method && x.pattern.test(r.path));
        r.params = route ? (route.pattern.exec(r.path)?.slice(1) ?? []).map(decodeURIComponent) : [];
        answer = route ? await route.handler(r) : notFound(r);
      }
      log.push({ method: r.method, path: r.path, status: answer.status });
      if (answer.status === 0) return; // the answer is lost: the client times out
      const json = answer.text === undefined && answer.body !== undefined;
      const out = answer.text ?? (json ? JSON.stringify(answer.body) : '');
      res.writeHead(answer.status, {
        ...(json ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        ...answer.headers,
      });
      res.end(out);
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
