/**
 * Synthetic Runner-API clients in their own process (so they do not share the coordinator's CPU
 * accounting): each client long-polls `POST /jobs/request`; a job it gets is "run" as a no-op:
 * optional trace PATCHes, then `PUT /jobs/:id` success. Settings come as JSON in BENCH_CLIENTS.
 * Prints `READY` once every client sent its first request; after SIGTERM, or when `maxJobs` jobs
 * were completed, writes its figures to `statsFile` and prints `STATS`.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';

import { requestLatencies, type ClientSettings, type ClientStats } from './client-stats.js';
import {
  MAX_TRIES,
  isRetryable,
  retryAfterMs,
  waitAfterRefusedRequestMs,
  waitBeforeRetryMs,
} from './retry.js';

const settings = JSON.parse(process.env['BENCH_CLIENTS'] ?? '{}') as ClientSettings;
const target = new URL(settings.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const stats: ClientStats = {
  completed: 0,
  errors: 0,
  retries: { trace: 0, update: 0, request: 0 },
  duplicates: 0,
  received: {},
  latencies: requestLatencies(),
  firstJobAt: null,
  lastJobAt: null,
};
const aborts = new Set<() => void>();
let cpuAtFirstJob: NodeJS.CpuUsage | null = null;
let cpuAtLastJob: NodeJS.CpuUsage | null = null;
let stopping = false;
let ready = false;

/** READY once, before STATS at the latest: a small backlog can be drained before the READY timer fires. */
function announceReady(): void {
  if (ready) return;
  ready = true;
  process.stdout.write('READY\n');
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function call(
  method: string,
  path: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: `/api/v4${path}`,
        agent,
        headers: { 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          aborts.delete(abort);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          });
        });
        res.on('error', reject);
      },
    );
    const abort = (): void => {
      req.destroy(new Error('stopped'));
    };
    aborts.add(abort);
    req.on('error', (err) => {
      aborts.delete(abort);
      reject(err);
    });
    req.end(body);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One trace PATCH or final PUT, sent again after no answer, a 5xx or a 429 (see retry.ts); the
 * latency is that of the try that was answered. Null when every try went unanswered.
 */
async function sendWithRetries(
  kind: 'trace' | 'update',
  method: string,
  path: string,
  body: () => string | Buffer,
  headers: () => Record<string, string>,
): Promise<Answer | null> {
  let answer: Answer | null = null;
  for (let attempt = 1; attempt <= MAX_TRIES && !stopping; attempt++) {
    const t0 = performance.now();
    answer = await call(method, path, body(), headers()).catch(() => null);
    if (answer && answer.status < 400) stats.latencies[kind].push(performance.now() - t0);
    if (!isRetryable(answer?.status ?? null) || attempt === MAX_TRIES) break;
    stats.retries[kind]++;
    await sleep(waitBeforeRetryMs(attempt, retryAfterMs(answer?.headers['retry-after'])));
  }
  return answer;
}

/** The stored size a 416 reports (`Range: 0-<size>`), or null. */
function storedSize(answer: Answer): number | null {
  const m = /^0-(\d+)$/.exec(String(answer.headers['range'] ?? ''));
  return m ? Number(m[1]) : null;
}

async function runJob(job: { id: number; token: string }): Promise<void> {
  const chunk = Buffer.alloc(settings.traceBytes ?? 0, 'x');
  let sent = 0;
  for (let i = 0; i < (settings.tracePatches ?? 0); i++) {
    const res = await sendWithRetries(
      'trace',
      'PATCH',
      `/jobs/${job.id}/trace`,
      () => chunk,
      () => ({
        'job-token': job.token,
        'content-range': `${sent}-${sent + chunk.length - 1}`,
        'content-type': 'text/plain',
      }),
    );
    // A 416 after a lost answer: the chunk was stored; go on from the size the coordinator has.
    const realigned = res?.status === 416 ? storedSize(res) : null;
    if (res?.status === 202) sent += chunk.length;
    else if (realigned !== null) sent = realigned;
    else stats.errors++;
  }
  const update = JSON.stringify({
    token: job.token,
    state: 'success',
    exit_code: 0,
    output: { bytesize: sent },
  });
  const res = await sendWithRetries(
    'update',
    'PUT',
    `/jobs/${job.id}`,
    () => update,
    () => ({ 'content-type': 'application/json' }),
  );
  if (res?.status !== 200) stats.errors++;
}

async function client(index: number): Promise<void> {
  const token = settings.tokens[index % settings.tokens.length] ?? '';
  const systemId = `s_bench${String(index).padStart(8, '0')}`;
  let lastUpdate: string | undefined;
  while (!stopping) {
    try {
      const body = JSON.stringify({
        token,
        system_id: systemId,
        info: { name: 'bench', version: '0.1.0', executor: 'noop' },
        ...(lastUpdate ? { last_update: lastUpdate } : {}),
      });
      const t0 = performance.now();
      const res = await call('POST', '/jobs/request', body, { 'content-type': 'application/json' });
      const header = res.headers['x-gitlab-last-update'];
      if (typeof header === 'string') lastUpdate = header;
      if (res.status === 201) {
        stats.latencies.request201.push(performance.now() - t0);
        const job = JSON.parse(res.body) as { id: number; token: string };
        const now = Date.now();
        if (stats.received[job.id] !== undefined) stats.duplicates++;
        stats.received[job.id] = now;
        stats.firstJobAt ??= now;
        cpuAtFirstJob ??= process.cpuUsage();
        await runJob(job);
        stats.completed++;
        stats.lastJobAt = Date.now();
        cpuAtLastJob = process.cpuUsage();
        if (settings.maxJobs && stats.completed >= settings.maxJobs) finish();
      } else if (res.status === 503 || res.status === 429) {
        stats.retries.request++;
        await sleep(waitAfterRefusedRequestMs(retryAfterMs(res.headers['retry-after'])));
      } else if (res.status !== 204) {
        stats.errors++;
        await sleep(200);
      }
    } catch {
      if (!stopping) {
        stats.errors++;
        await sleep(200);
      }
    }
  }
}

function finish(): void {
  if (stopping) return;
  stopping = true;
  for (const abort of aborts) abort();
  if (cpuAtFirstJob && cpuAtLastJob) {
    const used = process.cpuUsage(cpuAtFirstJob);
    const after = process.cpuUsage(cpuAtLastJob);
    stats.cpuSecondsWhileJobs = (used.user + used.system - after.user - after.system) / 1e6;
  }
  writeFileSync(settings.statsFile, JSON.stringify(stats));
  announceReady();
  process.stdout.write('STATS\n', () => process.exit(0));
}

process.on('SIGTERM', finish);
process.on('SIGINT', finish);
for (let i = 0; i < settings.clients; i++) void client(i);
// Every client has a request in flight once the event loop turned; long polls are then held.
setTimeout(announceReady, 200);
