/**
 * A small Runner API v4 coordinator on a real loopback port, for tests of the runner manager: job
 * request long poll, two-phase PUT, trace PATCH with 416 realignment, artifacts, verify/unregister.
 * Test code can script answers (e.g. a 202 on the final PUT) and inspect every request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  HEADER_TRACE_PATCH_LIMIT,
  HEADER_TRACE_PATCHES_IN_FLIGHT,
  parseContentRange,
  type JobPayload,
  type RemoteJobStatus,
} from '../../../src/api/runner-api.js';

export interface FakeJob {
  payload: JobPayload;
  status: RemoteJobStatus;
  trace: Buffer;
  updates: Record<string, unknown>[];
  artifacts: Buffer[];
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
}

export interface FakeCoordinator {
  readonly url: string;
  readonly jobs: Map<number, FakeJob>;
  /** Bodies of POST /jobs/request, in order. */
  readonly requests: Record<string, unknown>[];
  readonly patches: { jobId: number; range: string; status: number }[];
  readonly calls: string[];
  /** Answers for the next job requests (before normal processing), consumed in order. */
  readonly requestAnswers: ScriptedAnswer[];
  readonly putAnswers: ScriptedAnswer[];
  readonly patchAnswers: ScriptedAnswer[];
  /** Long-poll hold in ms (real time; the poll returns early when a job is enqueued). */
  holdMs: number;
  /** Called when a job request starts being held. */
  onHold: (() => void) | undefined;
  traceUpdateInterval: number | undefined;
  /**
   * Set: trace PATCH answers announce it (X-Flotilla-Trace-Patch-Limit, as a Flotilla coordinator
   * does) and larger bodies get 413. Unset: no header and no limit, as GitLab.
   */
  tracePatchLimit: number | undefined;
  /** Set: trace PATCH answers announce it (X-Flotilla-Trace-Patches-In-Flight). */
  tracePatchesInFlight: number | undefined;
  /** Set: every trace PATCH waits for it once its body has arrived (to see how many are in flight). */
  patchGate: Promise<void> | undefined;
  /** The most trace PATCHes whose bodies had arrived and that were not answered yet, at once. */
  readonly maxPatchesInFlight: number;
  /** Job requests being held (long polls in progress). */
  readonly heldCount: number;
  /** Extra headers of a 201 that hands out a job (e.g. a Flotilla coordinator's announcement). */
  jobAnswerHeaders: Record<string, string>;
  enqueue(payload: JobPayload): void;
  setStatus(jobId: number, status: RemoteJobStatus): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): void {
  res.writeHead(status, headers).end(body);
}

export async function startFakeCoordinator(): Promise<FakeCoordinator> {
  const queue: JobPayload[] = [];
  let version = 1;
  let waiters: (() => void)[] = [];
  const held = new Set<ServerResponse>();
  const fake = {
    url: '',
    jobs: new Map<number, FakeJob>(),
    requests: [] as Record<string, unknown>[],
    patches: [] as FakeCoordinator['patches'],
    calls: [] as string[],
    requestAnswers: [] as ScriptedAnswer[],
    putAnswers: [] as ScriptedAnswer[],
    patchAnswers: [] as ScriptedAnswer[],
    holdMs: 0,
    onHold: undefined as (() => void) | undefined,
    traceUpdateInterval: undefined as number | undefined,
    tracePatchLimit: undefined as number | undefined,
    jobAnswerHeaders: {} as Record<string, string>,
    tracePatchesInFlight: undefined as number | undefined,
    patchGate: undefined as Promise<void> | undefined,
    maxPatchesInFlight: 0,
  };
  let patchesInFlight = 0;

  function jobHeaders(job: FakeJob): Record<string, string> {
    const h: Record<string, string> = { 'job-status': job.status, range: `0-${job.trace.length}` };
    if (fake.traceUpdateInterval !== undefined)
      h['x-gitlab-trace-update-interval'] = String(fake.traceUpdateInterval);
    return h;
  }

  async function requestJob(
    body: Record<string, unknown>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    fake.requests.push(body);
    const scripted = fake.requestAnswers.shift();
    if (scripted) return send(res, scripted.status, scripted.headers);
    if (queue.length === 0 && fake.holdMs > 0 && body.last_update === String(version)) {
      held.add(res);
      fake.onHold?.();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, fake.holdMs);
        waiters.push(() => (clearTimeout(timer), resolve()));
      });
      held.delete(res);
      // never hand a job to a client that went away while held (it would be lost)
      if (res.writableEnded || res.destroyed || req.socket.destroyed) return;
    }
    const payload = queue.shift();
    if (!payload) return send(res, 204, { 'x-gitlab-last-update': String(version) });
    fake.jobs.set(payload.id, {
      payload,
      status: 'pending',
      trace: Buffer.alloc(0),
      updates: [],
      artifacts: [],
    });
    send(
      res,
      201,
      {
        'content-type': 'application/json',
        'x-gitlab-last-update': String(version),
        ...fake.jobAnswerHeaders,
      },
      JSON.stringify(payload),
    );
  }

  function updateJob(job: FakeJob, body: Record<string, unknown>, res: ServerResponse): void {
    job.updates.push(body);
    const scripted = fake.putAnswers.shift();
    if (scripted) return send(res, scripted.status, { ...jobHeaders(job), ...scripted.headers });
    if (job.status === 'canceled' || job.status === 'failed' || job.status === 'success')
      return send(res, 403, jobHeaders(job));
    const state = body.state as string;
    if (state === 'running' && job.status === 'pending') job.status = 'running';
    else if (state === 'success' || state === 'failed') job.status = state;
    send(res, 200, jobHeaders(job), '200');
  }

  async function gatedPatch(job: FakeJob, req: IncomingMessage, body: Buffer, res: ServerResponse) {
    patchesInFlight++;
    fake.maxPatchesInFlight = Math.max(fake.maxPatchesInFlight, patchesInFlight);
    try {
      await fake.patchGate;
      patchTrace(job, req, body, res);
    } finally {
      patchesInFlight--;
    }
  }

  function patchTrace(job: FakeJob, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const range = String(req.headers['content-range'] ?? '');
    const scripted = fake.patchAnswers.shift();
    const record = (status: number): void => void fake.patches.push({ jobId: job.payload.id, range, status });
    if (scripted) {
      record(scripted.status);
      return send(res, scripted.status, { ...jobHeaders(job), ...scripted.headers });
    }
    const parsed = parseContentRange(range);
    if (!parsed) return (record(400), send(res, 400));
    const limit = fake.tracePatchLimit;
    if (limit !== undefined && body.length > limit) return (record(413), send(res, 413));
    if (job.status !== 'running' && job.status !== 'canceling')
      return (record(403), send(res, 403, jobHeaders(job)));
    const announced: Record<string, string> = {
      ...(limit !== undefined ? { [HEADER_TRACE_PATCH_LIMIT]: String(limit) } : {}),
      ...(fake.tracePatchesInFlight !== undefined
        ? { [HEADER_TRACE_PATCHES_IN_FLIGHT]: String(fake.tracePatchesInFlight) }
        : {}),
    };
    if (parsed.start !== job.trace.length)
      return (record(416), send(res, 416, { ...jobHeaders(job), ...announced }));
    job.trace = Buffer.concat([job.trace, body]);
    record(202);
    send(res, 202, { ...jobHeaders(job), ...announced });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = (req.url ?? '').split('?')[0] ?? '';
    fake.calls.push(`${req.method} ${path}`);
    const json = (): Record<string, unknown> =>
      body.length ? (JSON.parse(body.toString()) as Record<string, unknown>) : {};
    if (req.method === 'POST' && path === '/api/v4/jobs/request') return requestJob(json(), req, res);
    if (req.method === 'POST' && path === '/api/v4/runners/verify')
      return send(
        res,
        200,
        { 'content-type': 'application/json' },
        JSON.stringify({ id: 7, token: json().token, token_expires_at: null }),
      );
    if (req.method === 'DELETE' && path === '/api/v4/runners') return send(res, 204);
    const m = /^\/api\/v4\/jobs\/(\d+)(\/trace|\/artifacts)?$/.exec(path);
    const job = m ? fake.jobs.get(Number(m[1])) : undefined;
    if (!job || req.headers['job-token'] !== job.payload.token) return send(res, 403);
    if (req.method === 'PUT' && !m?.[2]) return updateJob(job, json(), res);
    if (req.method === 'PATCH' && m?.[2] === '/trace') return gatedPatch(job, req, body, res);
    if (req.method === 'POST' && m?.[2] === '/artifacts')
      return (job.artifacts.push(body), send(res, 201, {}, '201'));
    send(res, 404);
  }

  const server = createServer((req, res) => {
    route(req, res).catch(() => send(res, 500));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  Object.defineProperty(fake, 'heldCount', { get: () => held.size });
  return Object.assign(fake as typeof fake & { readonly heldCount: number }, {
    enqueue(payload: JobPayload) {
      queue.push(payload);
      version++;
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    },
    setStatus(jobId: number, status: RemoteJobStatus) {
      const job = fake.jobs.get(jobId);
      if (job) job.status = status;
    },
    async close() {
      for (const res of held) send(res, 204);
      waiters.forEach((f) => f());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
