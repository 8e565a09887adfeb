/**
 * Observability beyond `/metrics` and the health checks (those live in app.ts):
 * - `GET /-/discovery/targets`: Prometheus HTTP SD for the whole fleet, the coordinator itself
 *   (at the address the scraper used), every runner manager that reported a metrics address
 *   while polling (`info.config.metrics_address` in `POST /api/v4/jobs/request`), and the
 *   autoscaled machines those managers list (asked from each manager, cached);
 * - the scrape-time queue gauges (`flotilla_coordinator_jobs_pending`, ...).
 * Managers are remembered from answered job requests (201/204, i.e. a valid runner token).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';

import { createConsulRegistrar, type ConsulSettings } from '../../observability/consul.js';
import {
  cleanLabels,
  HTTP_SD_CONTENT_TYPE,
  joinHostPort,
  type TargetGroup,
} from '../../observability/http-sd.js';
import {
  createManagerDirectory,
  type ManagerContact,
  type ManagerDirectory,
} from '../../observability/manager-directory.js';
import { createManagerMachines, type ManagerMachines } from '../../observability/manager-machines.js';
import { runnerLabelOf } from '../../observability/short-token.js';
import type { CoordinatorContext } from '../context.js';
import { createQueueMetrics, QUEUE_DEPTH_CAP, queueDepthByRunnerType } from '../metrics.js';

const JOB_REQUEST_ROUTE = '/api/v4/jobs/request';

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** The contact a job request carries, or null when it reported no metrics address. */
export function contactOf(body: unknown, peerIp: string): ManagerContact | null {
  const b = record(body);
  const info = record(b?.['info']);
  const metricsAddress = str(record(info?.['config'])?.['metrics_address']);
  const token = str(b?.['token']);
  if (!metricsAddress || !token) return null;
  return {
    runner: runnerLabelOf(token),
    systemId: str(b?.['system_id']),
    metricsAddress,
    peerIp,
    version: str(info?.['version']),
  };
}

function selfTarget(request: FastifyRequest): TargetGroup[] {
  const host = request.headers.host;
  if (!host) return [];
  return [{ targets: [host], labels: cleanLabels({ __meta_flotilla_component: 'coordinator' }) }];
}

async function oldestPendingAge(ctx: CoordinatorContext): Promise<number> {
  const [oldest] = await ctx.store.listPendingJobs(1);
  const since = oldest?.queuedAt ?? oldest?.createdAt;
  return since ? Math.max(0, (ctx.clock.now().getTime() - since.getTime()) / 1000) : 0;
}

/** The coordinator's own target for Consul: the external URL's host and port (the bound port for `:0`). */
function selfAddress(app: FastifyInstance, externalUrl: string): string | null {
  const url = new URL(externalUrl);
  const bound = app.server.address();
  const port =
    url.port !== '' && url.port !== '0'
      ? url.port
      : typeof bound === 'object' && bound
        ? String(bound.port)
        : url.protocol === 'https:'
          ? '443'
          : '80';
  return url.hostname ? joinHostPort(url.hostname.replace(/^\[|\]$/g, ''), port) : null;
}

/** `--consul-address`: the coordinator, every listed manager and their machines registered in Consul while listening. */
function registerInConsul(
  app: FastifyInstance,
  ctx: CoordinatorContext,
  settings: ConsulSettings,
  directory: ManagerDirectory,
  machines: ManagerMachines,
): void {
  const registrar = createConsulRegistrar({
    settings,
    targets: async () => {
      const self = selfAddress(app, ctx.config.externalUrl);
      const own: TargetGroup[] = self
        ? [{ targets: [self], labels: cleanLabels({ __meta_flotilla_component: 'coordinator' }) }]
        : [];
      const managers = directory.targets(ctx.clock.now().getTime());
      return [...own, ...managers, ...(await machines.groups(managers.flatMap((g) => g.targets)))];
    },
    clock: ctx.clock,
    logger: ctx.logger,
  });
  app.addHook('onListen', async () => registrar.start());
  app.addHook('onClose', async () => registrar.stop());
}

export function registerObservabilityRoutes(
  app: FastifyInstance,
  ctx: CoordinatorContext,
  registry: Registry,
  directory: ManagerDirectory = createManagerDirectory(),
): void {
  const now = (): number => ctx.clock.now().getTime();
  createQueueMetrics(registry, {
    countJobs: async (status) =>
      (await ctx.store.listJobs({ statuses: [status] }, { page: 1, perPage: 1 })).total,
    oldestPendingAgeSeconds: () => oldestPendingAge(ctx),
    runnerManagers: () => directory.size(now()),
    queueDepth: async () =>
      queueDepthByRunnerType(
        await ctx.store.listPendingJobs(QUEUE_DEPTH_CAP),
        (await ctx.store.listRunners({ page: 1, perPage: 10_000 })).items,
      ),
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (
      request.routeOptions.url === JOB_REQUEST_ROUTE &&
      (reply.statusCode === 201 || reply.statusCode === 204)
    ) {
      const contact = contactOf(request.body, request.ip);
      if (contact) directory.record(contact, now());
    }
    done();
  });
  const machines = createManagerMachines({ now });
  if (ctx.config.consul) registerInConsul(app, ctx, ctx.config.consul, directory, machines);
  app.get('/-/discovery/targets', async (request, reply) => {
    const managers = directory.targets(now());
    const machineGroups = await machines.groups(managers.flatMap((g) => g.targets));
    return reply
      .type(HTTP_SD_CONTENT_TYPE)
      .send(JSON.stringify([...selfTarget(request), ...managers, ...machineGroups]));
  });
}
