/**
 * A job's log as it grows, over Server-Sent Events (not in GitLab's API; the web UI uses it):
 * `GET /api/v4/projects/:id/jobs/:job_id/trace/stream?offset=N` or `?tail=BYTES`.
 *
 * Events (each `data` is JSON):
 * - `start` `{ offset, size }`: where the stream begins (with `tail`, only the last BYTES of a
 *   large log are sent; the page offers the raw log for the rest);
 * - `log` `{ offset, text }`: the log's bytes from `offset`, decoded as UTF-8 (a character split
 *   between reads is held back until it is whole), at most one window per event;
 * - `status` `{ status }`: the job's status whenever it changes;
 * - `end` `{ size }`: the job has finished and every byte was sent.
 *
 * The stream reads the store, so it works the same behind any coordinator replica. A reader that
 * goes away stops it at once; a quiet job gets a comment line every 15 s so proxies keep the
 * connection open.
 */
import { StringDecoder } from 'node:string_decoder';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type { JobRecord } from '../store/store.js';
import { parseId } from './http-helpers.js';
import { auth, resolveProject } from './project-routes.js';

const WINDOW_BYTES = 256 * 1024;
const POLL_MS = 250;
const KEEPALIVE_MS = 15_000;
const FINISHED = new Set(['success', 'failed', 'canceled', 'skipped', 'manual']);

interface StreamPosition {
  offset: number;
  size: number;
}

function startOf(query: Record<string, unknown>, job: JobRecord): StreamPosition {
  const size = job.traceSize;
  const offset = Number(query['offset']);
  if (query['offset'] !== undefined) {
    if (!Number.isInteger(offset) || offset < 0) {
      throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'offset must be a whole number of bytes ≥ 0');
    }
    return { offset: Math.min(offset, size), size };
  }
  const tail = Number(query['tail']);
  if (query['tail'] !== undefined && (!Number.isInteger(tail) || tail < 0)) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'tail must be a whole number of bytes ≥ 0');
  }
  return { offset: query['tail'] === undefined ? 0 : Math.max(0, size - tail), size };
}

function event(reply: FastifyReply, name: string, data: unknown): void {
  reply.raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

async function pump(
  ctx: CoordinatorContext,
  reply: FastifyReply,
  first: JobRecord,
  start: StreamPosition,
  closed: () => boolean,
): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let offset = start.offset;
  let status = '';
  let quietSince = ctx.clock.monotonic();
  let job: JobRecord | null = first;
  while (job && !closed()) {
    if (job.status !== status) {
      status = job.status;
      event(reply, 'status', { status });
    }
    if (job.traceSize > offset) {
      const chunk = await ctx.store.readTrace(job.id, offset, Math.min(WINDOW_BYTES, job.traceSize - offset));
      if (chunk.length > 0) {
        event(reply, 'log', { offset, text: decoder.write(chunk) });
        offset += chunk.length;
        quietSince = ctx.clock.monotonic();
        continue;
      }
    }
    if (FINISHED.has(job.status) && offset >= job.traceSize) {
      const rest = decoder.end();
      if (rest) event(reply, 'log', { offset, text: rest });
      event(reply, 'end', { size: offset });
      return;
    }
    if (ctx.clock.monotonic() - quietSince >= KEEPALIVE_MS) {
      reply.raw.write(': keep-alive\n\n');
      quietSince = ctx.clock.monotonic();
    }
    ctx.watchedTraces.set(job.id, ctx.clock.monotonic());
    await ctx.clock.sleep(POLL_MS);
    job = await ctx.store.getJob(job.id);
  }
}

async function streamLog(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  await auth(ctx, request);
  const params = request.params as Record<string, string>;
  const project = await resolveProject(ctx, params['id'], request);
  const job = await ctx.store.getJob(parseId(params['job_id'], 'Job'));
  if (!job || job.projectId !== project.id) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Job Not Found');
  const start = startOf(request.query as Record<string, unknown>, job);
  ctx.watchedTraces.set(job.id, ctx.clock.monotonic());
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let gone = false;
  request.raw.on('close', () => {
    gone = true;
  });
  event(reply, 'start', start);
  try {
    await pump(ctx, reply, job, start, () => gone);
  } catch (err) {
    ctx.logger.warn({ err, jobId: job.id }, 'job log stream stopped');
    if (!gone) event(reply, 'error', { message: 'the log stream failed; reload to resume' });
  } finally {
    reply.raw.end();
  }
}

export function registerJobLogStreamRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get('/api/v4/projects/:id/jobs/:job_id/trace/stream', (request, reply) =>
    streamLog(ctx, request, reply),
  );
}
