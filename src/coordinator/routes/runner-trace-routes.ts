/**
 * `PATCH /api/v4/jobs/:id/trace`: a chunk of a running job's log. The body is raw bytes whatever its
 * Content-Type (gitlab-runner sends `text/plain`, but a form or JSON type must not make the body
 * parsed or dropped), so the route lives in its own scope whose only parser keeps the bytes. The
 * inclusive `Content-Range: start-end` must announce exactly the body's length (GitLab ignores `end`;
 * we answer 400 so a truncated or padded chunk never lands in the log). A body may be up to 4 MiB,
 * four times GitLab's chunk, and the 202 and 416 answers say so (`X-Flotilla-Trace-Patch-Limit`):
 * a Flotilla runner then sends 4 MiB chunks, a quarter of the requests, syncs and commits per
 * megabyte; a gitlab-runner ignores the header and keeps sending 1 MiB.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import {
  HEADER_JOB_STATUS,
  HEADER_JOB_TOKEN,
  HEADER_TRACE_PATCH_LIMIT,
  HEADER_TRACE_PATCHES_IN_FLIGHT,
  HEADER_TRACE_UPDATE_INTERVAL,
  parseContentRange,
  TRACE_PATCH_LIMIT_MAX,
  TRACE_PATCHES_IN_FLIGHT_MAX,
} from '../../api/runner-api.js';
import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import { traceDataLength } from '../store/port/traces.js';
import { answered, answerWith } from './answer.js';
import { headerString } from './http-helpers.js';
import { authenticateJob } from './runner-api-routes.js';
import { createTraceArrivals, type TraceArrivals } from './trace-arrivals.js';

/** Announced on every answer (`HEADER_TRACE_PATCH_LIMIT`): a Flotilla runner then sends chunks this large. */
const TRACE_BODY_LIMIT = TRACE_PATCH_LIMIT_MAX;

function traceInterval(ctx: CoordinatorContext, jobId: number): number {
  const seen = ctx.watchedTraces.get(jobId);
  const watched = seen !== undefined && ctx.clock.monotonic() - seen < 10_000;
  return watched ? ctx.config.traceUpdateIntervalWatched : ctx.config.traceUpdateIntervalIdle;
}

/** The body as the pieces it arrived in (see `collectBody`). */
function rawBody(request: FastifyRequest): readonly Buffer[] {
  return Array.isArray(request.body) ? (request.body as Buffer[]) : [];
}

function tooLarge(): FlotillaError {
  return new FlotillaError(
    'FLO_ERR_PAYLOAD_TOO_LARGE',
    `413 Request Entity Too Large: a trace chunk is at most ${TRACE_BODY_LIMIT} bytes`,
  );
}

/** The arrival of each PATCH being received or stored (see `trace-arrivals.ts`), to end it. */
const arrivalOf = new WeakMap<FastifyRequest, () => void>();

/** Registers the PATCH as it arrives, before its body, when its job and range are readable. */
function registerArrival(arrivals: TraceArrivals, request: FastifyRequest): void {
  const jobId = Number((request.params as { id?: string } | undefined)?.id);
  const range = parseContentRange(headerString(request, 'content-range'));
  if (!Number.isSafeInteger(jobId) || !range) return;
  arrivalOf.set(request, arrivals.begin(jobId, range.start, range.end + 1));
}

function endArrival(request: FastifyRequest): void {
  arrivalOf.get(request)?.();
}

/**
 * Keeps the body's pieces as they arrive instead of joining them into one buffer: a file-backed
 * log writes them with one `writev`, so a 1 MiB chunk is never copied in the coordinator.
 */
function collectBody(
  arrivals: TraceArrivals,
  request: FastifyRequest,
  payload: NodeJS.ReadableStream,
  done: (err: Error | null, body?: Buffer[]) => void,
): void {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > TRACE_BODY_LIMIT) return done(tooLarge());
  registerArrival(arrivals, request);
  const pieces: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: Error | null, body?: Buffer[]): void => {
    if (finished) return;
    finished = true;
    if (err) endArrival(request);
    done(err, body);
  };
  payload.on('data', (piece: Buffer) => {
    size += piece.length;
    if (size > TRACE_BODY_LIMIT) {
      payload.removeAllListeners('data');
      return finish(tooLarge());
    }
    pieces.push(piece);
  });
  payload.on('end', () => finish(null, pieces));
  payload.on('error', (err: Error) => finish(err));
}

/** Appends after the PATCH that this one follows, when that one is still being stored here. */
async function appendInOrder(
  ctx: CoordinatorContext,
  arrivals: TraceArrivals,
  request: FastifyRequest,
  jobId: number,
  start: number,
  data: readonly Buffer[],
) {
  const self = arrivalOf.get(request);
  try {
    if (self) await arrivals.predecessor(jobId, start, self);
    return await ctx.store.appendTrace(jobId, start, data);
  } finally {
    endArrival(request);
  }
}

async function appendTrace(
  ctx: CoordinatorContext,
  arrivals: TraceArrivals,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<undefined> {
  const job = await authenticateJob(ctx, request, reply, headerString(request, HEADER_JOB_TOKEN));
  const header = headerString(request, 'content-range');
  const range = parseContentRange(header);
  if (!range)
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      '400 Bad Request: Content-Range is missing or malformed (expected "start-end")',
    );
  const data = rawBody(request);
  const length = traceDataLength(data);
  const announced = range.end - range.start + 1;
  if (announced !== length)
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      `400 Bad Request: Content-Range ${range.start}-${range.end} announces ${announced} bytes but the body has ${length} (the range is inclusive: end = start + length - 1)`,
    );
  const result = await appendInOrder(ctx, arrivals, request, job.id, range.start, data);
  reply.header(HEADER_JOB_STATUS, job.status);
  reply.header(HEADER_TRACE_PATCH_LIMIT, String(TRACE_BODY_LIMIT));
  reply.header(HEADER_TRACE_PATCHES_IN_FLIGHT, String(TRACE_PATCHES_IN_FLIGHT_MAX));
  if (!result.ok) {
    reply.header('Range', `0-${result.size}`);
    return answered(reply.code(416).send('416 Range Not Satisfiable'));
  }
  ctx.metrics.traceBytes.inc(length);
  ctx.scheduler.heartbeats.touch(job.id, ctx.clock.now());
  reply.header('Range', `0-${result.size}`);
  reply.header(HEADER_TRACE_UPDATE_INTERVAL, String(traceInterval(ctx, job.id)));
  return answered(reply.code(202).send('202'));
}

export function registerTraceRoute(app: FastifyInstance, ctx: CoordinatorContext): void {
  const arrivals = createTraceArrivals((ms, signal) => ctx.clock.sleep(ms, signal));
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (request, payload, done) =>
      collectBody(arrivals, request, payload, done),
    );
    // Whatever ends a PATCH (an answer, an error, the client gone) ends its arrival.
    scope.addHook('onResponse', async (request) => endArrival(request));
    scope.addHook('onRequestAbort', async (request) => endArrival(request));
    scope.patch('/api/v4/jobs/:id/trace', { bodyLimit: TRACE_BODY_LIMIT }, (request, reply) =>
      answerWith(reply, () => appendTrace(ctx, arrivals, request, reply)),
    );
  });
}
