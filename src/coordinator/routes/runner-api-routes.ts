/** Runner API v4: what runner managers call (verify, unregister, request jobs, update, trace, artifacts). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import {
  formatAnnouncedJobs,
  formatAnnouncedStages,
  HEADER_ANNOUNCE,
  HEADER_ANNOUNCED_JOBS,
  HEADER_ANNOUNCED_STAGES,
  HEADER_JOB_ANNOUNCED,
} from '../../api/announced-jobs.js';
import { toFailureReason } from '../../api/job-status.js';
import {
  HEADER_JOB_STATUS,
  HEADER_JOB_TOKEN,
  HEADER_LAST_UPDATE,
  jobRequestSchema,
  updateJobRequestSchema,
  verifyRunnerRequestSchema,
} from '../../api/runner-api.js';
import { FlotillaError } from '../../shared/errors.js';
import { findActiveJob, findRunner } from '../auth.js';
import type { CoordinatorContext } from '../context.js';
import { createAnnouncer, wasAnnounced, type Announcer } from '../scheduler/queue/announced-jobs.js';
import type { QueueMatch } from '../scheduler/queue/runner-queue.js';
import type { JobRecord, RunnerRecord } from '../store/store.js';
import { answered, answerWith } from './answer.js';
import { registerArtifactRoutes } from './runner-artifact-routes.js';
import { quickJobRequest, quickUpdateJobRequest } from './runner-request-bodies.js';
import { registerTraceRoute } from './runner-trace-routes.js';
import { bodyOf, headerString, parseId } from './http-helpers.js';

const CONTACT_WRITE_INTERVAL_MS = 60_000;

function forbidden(): FlotillaError {
  return new FlotillaError('FLO_ERR_FORBIDDEN', '403 Forbidden');
}

function parse<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: { path: (string | number)[]; message: string }[] } };
  },
  value: unknown,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new FlotillaError(
    'FLO_ERR_BAD_REQUEST',
    `${issue?.path.join('.') || 'body'} ${issue?.message ?? 'is invalid'}`,
  );
}

/**
 * When this process last wrote each runner's contact (ms): a runner's many clients (20 per token
 * in the throughput bench) all read the row before the first write lands, and each wrote it again.
 */
const contactWrites = new WeakMap<CoordinatorContext, Map<number, number>>();

/** Whether this process wrote the runner's contact within the interval (and if not, notes that it will now). */
function contactWrittenRecently(ctx: CoordinatorContext, runnerId: number, nowMs: number): boolean {
  let written = contactWrites.get(ctx);
  if (written === undefined) contactWrites.set(ctx, (written = new Map()));
  const last = written.get(runnerId);
  if (last !== undefined && nowMs - last < CONTACT_WRITE_INTERVAL_MS) return true;
  if (written.size >= 10_000) written.clear();
  written.set(runnerId, nowMs);
  return false;
}

async function recordContact(
  ctx: CoordinatorContext,
  runner: RunnerRecord,
  request: FastifyRequest,
  info: Record<string, unknown> | undefined,
): Promise<void> {
  const now = ctx.clock.now();
  if (runner.contactedAt && now.getTime() - runner.contactedAt.getTime() < CONTACT_WRITE_INTERVAL_MS) return;
  if (contactWrittenRecently(ctx, runner.id, now.getTime())) return;
  const s = (k: string): string | null => (typeof info?.[k] === 'string' ? (info[k] as string) : null);
  try {
    await ctx.store.updateRunner(runner.id, {
      contactedAt: now,
      ipAddress: request.ip,
      version: s('version') ?? runner.version,
      revision: s('revision') ?? runner.revision,
      platform: s('platform') ?? runner.platform,
      architecture: s('architecture') ?? runner.architecture,
      executor: s('executor') ?? runner.executor,
    });
  } catch (err) {
    contactWrites.get(ctx)?.delete(runner.id);
    throw err;
  }
}

/** Holds the request while the runner's queue version equals `lastUpdate`; true when it changed. */
async function holdLongPoll(
  ctx: CoordinatorContext,
  runner: RunnerRecord,
  lastUpdate: string | undefined,
  reply: FastifyReply,
): Promise<void> {
  const match = { tagList: runner.tagList, runUntagged: runner.runUntagged, accessLevel: runner.accessLevel };
  const queue = ctx.scheduler.deps.queue;
  if (lastUpdate === undefined || lastUpdate !== queue.version(runner.id, match)) return;
  const abort = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) abort.abort();
  };
  reply.raw.on('close', onClose);
  ctx.metrics.longPollWaiters.inc();
  try {
    await queue.wait(runner.id, ctx.config.longPollSeconds * 1000, abort.signal);
  } finally {
    ctx.metrics.longPollWaiters.dec();
    reply.raw.off('close', onClose);
  }
}

function clientGone(request: FastifyRequest, reply: FastifyReply): boolean {
  return reply.raw.destroyed || request.raw.socket.destroyed;
}

/** How old the announced jobs' read may be by default (one store read per span, shared by all runners). */
const ANNOUNCE_REFRESH_SECONDS = 5;

/** The claim of a job request whose turn came (see requestJob): 201 with the job, or 204. */
async function claimFor(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  runner: RunnerRecord,
  systemId: string | null,
  announce: boolean,
): Promise<undefined> {
  const match = { tagList: runner.tagList, runUntagged: runner.runUntagged, accessLevel: runner.accessLevel };
  const queue = ctx.scheduler.deps.queue;
  if (clientGone(request, reply)) return answered(reply.code(204).send());
  const runner_type = runner.runnerType;
  // Read before the claim: a job queued while the claim runs changes the version, so a request
  // that found nothing is not held on a version that already counts that job.
  const before = queue.beforeClaim(runner.id, match);
  const { version } = before;
  // Another request (of this runner, or of one that may take the same jobs) found nothing while
  // this one waited for its turn.
  if (queue.knownEmpty(runner.id, match)) {
    reply.header(HEADER_LAST_UPDATE, version);
    return answered(reply.code(204).send());
  }
  const retrieving = ctx.clock.monotonic();
  const claimed = await ctx.scheduler.claim(runner, systemId);
  ctx.metrics.queueRetrieval.observe({ runner_type }, (ctx.clock.monotonic() - retrieving) / 1000);
  if (claimed && clientGone(request, reply)) {
    await ctx.scheduler.requeue(claimed.job);
    return undefined;
  }
  if (claimed) {
    const waited = (claimed.job.startedAt?.getTime() ?? 0) - (claimed.job.queuedAt?.getTime() ?? 0);
    ctx.metrics.queueDuration.observe({ runner_type }, Math.max(0, waited) / 1000);
    // More jobs may be pending for this runner: its next request looks for one at once. A claim
    // queues nothing, so the runner's other held requests are not woken (one is, see wakeOne).
    reply.header(HEADER_LAST_UPDATE, queue.afterClaim(version));
    if (announce && wasAnnounced(claimed.job)) reply.header(HEADER_JOB_ANNOUNCED, '1');
    queue.wakeOne(runner.id);
    return answered(reply.code(201).type('application/json').send(JSON.stringify(claimed.payload)));
  }
  queue.foundNothing(runner.id, before, match);
  reply.header(HEADER_LAST_UPDATE, version);
  return answered(reply.code(204).send());
}

/** With `X-Flotilla-Announce: 1`, the runner's announced jobs as a header (a Flotilla extension). */
async function announceTo(
  announcer: Announcer,
  request: FastifyRequest,
  reply: FastifyReply,
  match: QueueMatch,
): Promise<boolean> {
  if (headerString(request, HEADER_ANNOUNCE) !== '1') return false;
  const a = await announcer.forRunner(match);
  reply.header(HEADER_ANNOUNCED_JOBS, formatAnnouncedJobs(a));
  reply.header(HEADER_ANNOUNCED_STAGES, formatAnnouncedStages(a.stages ?? []));
  return true;
}

async function requestJob(
  ctx: CoordinatorContext,
  announcer: Announcer,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<undefined> {
  const raw = bodyOf(request);
  const body = quickJobRequest(raw) ?? parse(jobRequestSchema, raw);
  const runner = await findRunner(ctx.store, body.token);
  if (!runner) throw forbidden();
  await recordContact(ctx, runner, request, body.info);
  const match = { tagList: runner.tagList, runUntagged: runner.runUntagged, accessLevel: runner.accessLevel };
  const queue = ctx.scheduler.deps.queue;
  if (!runner.paused) {
    await holdLongPoll(ctx, runner, body.last_update, reply);
    if (clientGone(request, reply)) return answered(reply.code(204).send());
    const announce = await announceTo(announcer, request, reply, match);
    if (queue.knownEmpty(runner.id, match)) {
      reply.header(HEADER_LAST_UPDATE, queue.version(runner.id, match));
      return answered(reply.code(204).send());
    }
    // The claim waits for its turn: updates of running jobs read meanwhile go first (claim-gate.ts).
    ctx.metrics.claimsWaiting.inc();
    const release = await ctx.scheduler.claimGate.enter(); // never rejects
    ctx.metrics.claimsWaiting.dec();
    try {
      return await claimFor(ctx, request, reply, runner, body.system_id ?? null, announce);
    } finally {
      release();
    }
  }
  reply.header(HEADER_LAST_UPDATE, queue.version(runner.id, match));
  return answered(reply.code(204).send());
}

/** The job this job token belongs to; 403 (with Job-Status) when the job is not running. */
export async function authenticateJob(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  token: string | undefined,
): Promise<JobRecord> {
  const jobId = parseId((request.params as Record<string, string>)['id'], 'Job');
  const job = await findActiveJob(ctx.store, token);
  if (job && job.id === jobId) return job;
  const existing = await ctx.store.getJob(jobId);
  if (existing) reply.header(HEADER_JOB_STATUS, existing.status);
  throw forbidden();
}

async function updateJob(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<undefined> {
  const raw = bodyOf(request);
  const body = quickUpdateJobRequest(raw) ?? parse(updateJobRequestSchema, raw);
  const job = await authenticateJob(
    ctx,
    request,
    reply,
    body.token ?? headerString(request, HEADER_JOB_TOKEN),
  );
  const now = ctx.clock.now();
  if (body.state === 'success' || body.state === 'failed' || body.state === 'canceled') {
    const bytes = body.output?.bytesize;
    if (bytes !== undefined && bytes !== job.traceSize) {
      ctx.logger.warn(
        { jobId: job.id, runnerBytes: bytes, storedBytes: job.traceSize },
        'final trace size differs from the stored log',
      );
    }
    const updated = await ctx.scheduler.finish(job, {
      state: body.state === 'success' ? 'success' : 'failed',
      failureReason: body.state === 'success' ? undefined : toFailureReason(body.failure_reason),
      ...(body.exit_code !== undefined ? { exitCode: body.exit_code } : {}),
    });
    reply.header(HEADER_JOB_STATUS, updated?.status ?? job.status);
    return answered(reply.code(200).send('200'));
  }
  ctx.scheduler.heartbeats.touch(job.id, now);
  reply.header(HEADER_JOB_STATUS, job.status);
  return answered(reply.code(200).send('200'));
}

export function registerRunnerApiRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.post('/api/v4/runners/verify', async (request, reply) => {
    const body = parse(verifyRunnerRequestSchema, bodyOf(request));
    const runner = await findRunner(ctx.store, body.token);
    if (!runner) throw forbidden();
    await recordContact(ctx, runner, request, body.info);
    return reply.code(200).send({ id: runner.id, token: body.token, token_expires_at: null });
  });
  const unregister = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const token = bodyOf(request)['token'];
    const runner = await findRunner(ctx.store, typeof token === 'string' ? token : undefined);
    if (!runner) throw forbidden();
    if (request.url.endsWith('/managers')) return reply.code(204).send();
    await ctx.store.deleteRunner(runner.id);
    ctx.scheduler.deps.queue.forget(runner.id);
    return reply.code(204).send();
  };
  app.delete('/api/v4/runners', unregister);
  app.delete('/api/v4/runners/managers', unregister);
  const announcer = createAnnouncer({
    store: ctx.store,
    clock: ctx.clock,
    logger: ctx.logger,
    refreshMs: (ctx.config.announceRefreshSeconds ?? ANNOUNCE_REFRESH_SECONDS) * 1000,
  });
  app.post('/api/v4/jobs/request', (request, reply) =>
    answerWith(reply, () => requestJob(ctx, announcer, request, reply)),
  );
  app.put('/api/v4/jobs/:id', (request, reply) => answerWith(reply, () => updateJob(ctx, request, reply)));
  registerTraceRoute(app, ctx);
  registerArtifactRoutes(app, ctx);
}
