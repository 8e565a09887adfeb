/**
 * Flotilla extension: the autoscaled fleets of runners, as their managers report them, and the
 * provider pauses administrators ask for.
 *
 * - `POST /api/v4/runners/fleet` (Runner API, runner token in the body): a manager's report of one
 *   runner's providers and machines (see src/api/fleet-report.ts); the answer lists the pauses
 *   asked for, which the manager applies once each as `flotilla fleet pause|unpause|auto` does.
 * - `GET /api/v4/runners/:id/providers` (any signed-in user): per manager that reported in the
 *   last minute, the providers (paused, failing, errors and errors per minute, the hand-set setting and the request
 *   pending) and machines (provider, zone, state, age, jobs, use count); older reports are `stale`.
 * - `POST /api/v4/runners/:id/providers/:name/pause|unpause|auto` (administrators): asks the
 *   runner's managers to pause, unpause or give back to failover that provider: 202 with the
 *   runner's fleet view (the request shows as `wanted`, `applied` once a manager reports it). 404
 *   `FLO_ERR_NOT_FOUND` for an unknown runner or a provider no manager reports; 409
 *   `FLO_ERR_CONFLICT` when no manager reported the runner's fleet within the last minute (nobody
 *   would apply it).
 *
 * Reports and requests live in the store, so every coordinator replica on one database sees them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import {
  FLEET_REPORT_PATH,
  fleetReportRequestSchema,
  type FleetReportResponse,
  type ManualSetting,
} from '../../api/fleet-report.js';
import { FlotillaError } from '../../shared/errors.js';
import { findRunner, requireAdmin } from '../auth.js';
import type { CoordinatorContext } from '../context.js';
import type { FleetReportRecord, ProviderWantRecord } from '../store/port/runners.js';
import type { RunnerRecord } from '../store/store.js';
import { bodyOf, parseId } from './http-helpers.js';
import { auth } from './project-routes.js';

/** Seconds between a manager's reports. */
export const FLEET_REPORT_INTERVAL_S = 5;
/** A report older than this is stale: its manager is gone or cut off. */
export const FLEET_REPORT_STALE_MS = 60_000;

const ACTIONS: Record<string, ManualSetting> = { pause: 'paused', unpause: 'unpaused', auto: 'auto' };

function badRequest(issue: { path: PropertyKey[]; message: string } | undefined): FlotillaError {
  return new FlotillaError(
    'FLO_ERR_BAD_REQUEST',
    `${issue?.path.map(String).join('.') || 'body'} ${issue?.message ?? 'is invalid'}`,
  );
}

async function loadRunner(ctx: CoordinatorContext, request: FastifyRequest): Promise<RunnerRecord> {
  const id = parseId((request.params as Record<string, string>)['id'], 'Runner');
  const runner = await ctx.store.getRunner(id);
  if (!runner) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Runner Not Found');
  return runner;
}

function presentWant(w: ProviderWantRecord | undefined) {
  return w ? { manual: w.manual, requested_at: w.requestedAt.toISOString() } : null;
}

/** The REST view of a runner's reports and requests. */
export function presentFleet(
  runnerId: number,
  reports: FleetReportRecord[],
  wants: ProviderWantRecord[],
  nowMs: number,
) {
  const want = new Map(wants.map((w) => [w.provider, w]));
  return {
    runner_id: runnerId,
    managers: reports.map((r) => {
      const stale = nowMs - r.reportedAt.getTime() > FLEET_REPORT_STALE_MS;
      return {
        system_id: r.systemId,
        runner_name: r.runnerName,
        reported_at: r.reportedAt.toISOString(),
        stale,
        providers: r.providers.map((p) => {
          const wanted = presentWant(want.get(p.name));
          return { ...p, wanted, applied: wanted === null || wanted.manual === p.manual };
        }),
        machines: stale ? [] : r.machines,
      };
    }),
    wanted: wants.map((w) => ({ provider: w.provider, ...presentWant(w) })),
  };
}

async function receiveReport(ctx: CoordinatorContext, request: FastifyRequest): Promise<FleetReportResponse> {
  // The credential first, as every Runner API route: a bad token gets 403 whatever the body.
  const token = bodyOf(request)['token'];
  if (typeof token !== 'string') throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'token is missing');
  const runner = await findRunner(ctx.store, token);
  if (!runner) throw new FlotillaError('FLO_ERR_FORBIDDEN', '403 Forbidden');
  const parsed = fleetReportRequestSchema.safeParse(bodyOf(request));
  if (!parsed.success) throw badRequest(parsed.error.issues[0]);
  const body = parsed.data;
  await ctx.store.saveFleetReport({
    runnerId: runner.id,
    systemId: body.system_id,
    runnerName: body.runner_name ?? null,
    providers: body.providers,
    machines: body.machines,
    reportedAt: ctx.clock.now(),
  });
  const wants = await ctx.store.listProviderWants(runner.id);
  return {
    wanted: wants.map((w) => ({
      provider: w.provider,
      manual: w.manual,
      requested_at: w.requestedAt.toISOString(),
    })),
    report_interval: FLEET_REPORT_INTERVAL_S,
  };
}

async function askPause(ctx: CoordinatorContext, request: FastifyRequest, manual: ManualSetting) {
  const principal = await auth(ctx, request);
  requireAdmin(principal);
  const runner = await loadRunner(ctx, request);
  const params = request.params as Record<string, string>;
  const provider = params['name'] ?? '';
  const now = ctx.clock.now();
  const reports = await ctx.store.listFleetReports(runner.id);
  const live = reports.filter((r) => now.getTime() - r.reportedAt.getTime() <= FLEET_REPORT_STALE_MS);
  if (!reports.some((r) => r.providers.some((p) => p.name === provider)))
    throw new FlotillaError(
      'FLO_ERR_NOT_FOUND',
      `404 Provider Not Found: no manager of runner ${runner.id} reports a provider "${provider}"`,
      {
        details: { runner: runner.id, provider },
      },
    );
  if (!live.some((r) => r.providers.some((p) => p.name === provider)))
    throw new FlotillaError(
      'FLO_ERR_CONFLICT',
      `409 Conflict: no runner manager has reported provider "${provider}" of runner ${runner.id} in the last ${FLEET_REPORT_STALE_MS / 1000} s, so none would apply the change`,
      { details: { runner: runner.id, provider } },
    );
  await ctx.store.setProviderWant({
    runnerId: runner.id,
    provider,
    manual,
    requestedAt: now,
    userId: principal.user.id,
  });
  ctx.logger.info(
    { runnerId: runner.id, provider, manual, userId: principal.user.id },
    'provider pause asked for',
  );
  const wants = await ctx.store.listProviderWants(runner.id);
  return presentFleet(runner.id, reports, wants, now.getTime());
}

export function registerRunnerFleetRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.post(FLEET_REPORT_PATH, (request) => receiveReport(ctx, request));
  app.get('/api/v4/runners/:id/providers', async (request) => {
    await auth(ctx, request);
    const runner = await loadRunner(ctx, request);
    const [reports, wants] = await Promise.all([
      ctx.store.listFleetReports(runner.id),
      ctx.store.listProviderWants(runner.id),
    ]);
    return presentFleet(runner.id, reports, wants, ctx.clock.now().getTime());
  });
  for (const [action, manual] of Object.entries(ACTIONS))
    app.post(`/api/v4/runners/:id/providers/:name/${action}`, async (request, reply) =>
      reply.code(202).send(await askPause(ctx, request, manual)),
    );
}
