/**
 * Per-call timing of the Docker Engine API as a runner process makes the calls. The runner is
 * started with `--import <this compiled file>` and FLOTILLA_BENCH_DOCKER_TIMING=<file>: every
 * `http.request` over a unix socket (dockerode's transport) appends one JSON line with the method,
 * the path and the milliseconds until the answer's headers (or the upgrade of a hijacked stream)
 * and until its end. `readDockerCalls` reads them back; `summarizeJob` groups one job's calls.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';

export interface DockerCall {
  method: string;
  path: string;
  /** Monotonic ms (performance.now of the runner) when the request was made. */
  at: number;
  /** Ms to the response headers or upgrade. */
  headersMs: number;
  /** Ms to the end of the response body (hijacked streams: to the upgrade). */
  totalMs: number;
}

/** `GET /images/busybox:latest/json?x` → `GET /images/:name/json`, ids and names folded. */
export function callKind(method: string, rawPath: string): string {
  const p = (rawPath.split('?')[0] ?? '').replace(/^\/v\d+\.\d+/, '');
  const folded = p
    .replace(/^\/images\/.+\/json$/, '/images/:name/json')
    .replace(/^\/(containers|exec|networks|volumes)\/(?!create$|json$)[^/]+/, '/$1/:id');
  return `${method} ${folded}`;
}

function install(file: string): void {
  const original = http.request.bind(http);
  const patched = (...args: unknown[]): http.ClientRequest => {
    const req = (original as (...a: unknown[]) => http.ClientRequest)(...args);
    const options = args.find((a) => a !== null && typeof a === 'object' && !(a instanceof URL)) as
      http.RequestOptions | undefined;
    if (!options?.socketPath) return req;
    const at = performance.now();
    let headersMs = -1;
    const write = (totalMs: number): void =>
      appendFileSync(
        file,
        `${JSON.stringify({ method: req.method, path: req.path, at, headersMs, totalMs })}\n`,
      );
    req.once('response', (res: http.IncomingMessage) => {
      headersMs = performance.now() - at;
      res.once('end', () => write(performance.now() - at));
    });
    req.once('upgrade', () => {
      headersMs = performance.now() - at;
      write(headersMs);
    });
    return req;
  };
  http.request = patched as typeof http.request;
}

const target = process.env.FLOTILLA_BENCH_DOCKER_TIMING;
if (target) install(target);

export function readDockerCalls(file: string): DockerCall[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DockerCall);
}

/**
 * One job's calls up to the creation of its step_script container (what happens between pickup
 * and the script start): per call kind, how many and their summed milliseconds.
 */
export function summarizeJob(calls: DockerCall[]): Map<string, { count: number; ms: number }> {
  const out = new Map<string, { count: number; ms: number }>();
  for (const c of calls) {
    if (c.method === 'POST' && /\/containers\/create\?name=[^&]*step_script/.test(c.path)) break;
    const kind = callKind(c.method, c.path);
    const entry = out.get(kind) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += c.totalMs;
    out.set(kind, entry);
  }
  return out;
}
