/**
 * Flotilla extension: `GET /api/v4/fleet/samples` (any signed-in user), the recent history of the
 * queue and the fleet for the web UI's charts (see fleet-samples.ts), kept in the store and so the
 * same on every replica: `{ interval_seconds, samples: [{ at, pending, oldest_wait_seconds,
 * machines }] }`, oldest first, up to the last 6 hours. `machines` counts the machines in the
 * runner managers' fresh fleet reports.
 */
import type { FastifyInstance } from 'fastify';

import type { CoordinatorContext } from '../context.js';
import { createFleetSampler } from '../fleet-samples.js';
import { auth } from './project-routes.js';
import { FLEET_REPORT_STALE_MS } from './runner-fleet-routes.js';

/** One store call for every runner's reports (a call per runner was 1 + N calls per sample). */
async function reportedMachines(ctx: CoordinatorContext, nowMs: number): Promise<number> {
  let total = 0;
  for (const report of await ctx.store.listFleetReports())
    if (nowMs - report.reportedAt.getTime() <= FLEET_REPORT_STALE_MS) total += report.machines.length;
  return total;
}

export function registerFleetSampleRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const sampler = createFleetSampler({
    clock: ctx.clock,
    logger: ctx.logger,
    store: ctx.store,
    intervalMs: (ctx.config.fleetSampleSeconds ?? 15) * 1000,
    take: async () => {
      const now = ctx.clock.now();
      const pending = await ctx.store.listJobs({ statuses: ['pending'] }, { page: 1, perPage: 1 });
      const [oldest] = await ctx.store.listPendingJobs(1);
      const since = oldest?.queuedAt ?? oldest?.createdAt;
      return {
        pending: pending.total ?? 0,
        oldest_wait_seconds: since ? Math.max(0, Math.round((now.getTime() - since.getTime()) / 1000)) : 0,
        machines: await reportedMachines(ctx, now.getTime()),
      };
    },
  });
  app.addHook('onListen', async () => sampler.start());
  app.addHook('onClose', async () => sampler.stop());
  app.get('/api/v4/fleet/samples', async (request) => {
    await auth(ctx, request);
    return { interval_seconds: sampler.intervalMs / 1000, samples: await sampler.samples() };
  });
}
