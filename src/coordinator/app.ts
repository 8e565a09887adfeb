/**
 * Builds the coordinator: the HTTP app (Runner API v4, REST API v4, git smart HTTP, metrics,
 * health) and the scheduler. Never listens: the CLI (or a test) calls `app.listen`.
 */
import { randomBytes } from 'node:crypto';

import multipart from '@fastify/multipart';
import {
  fastify,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Registry } from 'prom-client';

import type { Clock } from '../shared/clock.js';
import { errorMessage, isDiskFull, isFlotillaError, type FlotillaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ArtifactStorage } from './artifacts/artifact-storage.js';
import type { CoordinatorConfig } from './config.js';
import type { CoordinatorContext, GitHosting } from './context.js';
import { createCoordinatorMetrics } from './metrics.js';
import { registerAccessTokenRoutes } from './routes/access-token-routes.js';
import { registerEnvironmentRoutes } from './routes/environment-routes.js';
import { registerFleetSampleRoutes } from './routes/fleet-sample-routes.js';
import { registerGitRoutes } from './routes/git-routes.js';
import { installGitLabHttp, recordRoutes, type RouteEntry } from './routes/gitlab-http.js';
import { registerJobArtifactFileRoutes } from './routes/job-artifact-file-routes.js';
import { registerJobLogStreamRoutes } from './routes/job-log-stream-routes.js';
import { registerJobRoutes } from './routes/job-routes.js';
import { registerLintRoutes } from './routes/lint-routes.js';
import { registerObservabilityRoutes } from './routes/observability-routes.js';
import { registerPipelineDeleteRoutes } from './routes/pipeline-delete-routes.js';
import { registerPipelineRoutes } from './routes/pipeline-routes.js';
import { registerProjectEditRoutes } from './routes/project-edit-routes.js';
import { registerProjectRoutes } from './routes/project-routes.js';
import { registerRepositoryRoutes } from './routes/repository-routes.js';
import { registerRunnerApiRoutes } from './routes/runner-api-routes.js';
import { registerRunnerFleetRoutes } from './routes/runner-fleet-routes.js';
import { registerRunnerJobRoutes } from './routes/runner-job-routes.js';
import { registerRunnerRoutes } from './routes/runner-routes.js';
import { registerTestReportRoutes } from './routes/test-report-routes.js';
import { registerUserAdminRoutes } from './routes/user-admin-routes.js';
import { registerUserRoutes } from './routes/user-routes.js';
import { registerVariableRoutes } from './routes/variable-routes.js';
import { withCommitCache } from './scheduler/commit-cache.js';
import { RunnerQueue, type QueueBus } from './scheduler/queue/runner-queue.js';
import { Scheduler } from './scheduler/scheduler.js';
import { cachingStore } from './store/caching-store.js';
import type { Store, StoreLifecycle } from './store/store.js';
import { isStoreUnavailable, STORE_RETRY_AFTER_SECONDS } from './store/unavailable.js';
import { registerUiRoutes } from './ui/ui-routes.js';

export interface CoordinatorDeps {
  store: Store;
  git: GitHosting;
  config: CoordinatorConfig;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** Shares long-poll wake-ups with the other coordinators of the database (PostgreSQL). */
  queueBus?: QueueBus | undefined;
}

export interface Coordinator {
  app: FastifyInstance;
  scheduler: Scheduler;
  context: CoordinatorContext;
  /** Every route the app serves (method, URL pattern), in registration order: docs/api.md. */
  routes: RouteEntry[];
  /** Stops the scheduler and the HTTP app (held long polls are answered). */
  close(): Promise<void>;
}

function errorBody(err: FlotillaError): Record<string, unknown> {
  const fields = err.details?.['fields'];
  return { message: fields ?? err.message, code: err.code };
}

/** 503 with Retry-After: the database is unreachable; the next request tries again. */
function refuseStoreUnavailable(
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
): FastifyReply {
  logger.warn(
    { err: errorMessage(err), url: request.url, method: request.method },
    'database unreachable: request refused',
  );
  return reply.code(503).header('retry-after', String(STORE_RETRY_AFTER_SECONDS)).send({
    message: "503 Service Unavailable: the coordinator's database cannot be reached",
    code: 'FLO_ERR_STORE_UNAVAILABLE',
  });
}

function installErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: FastifyError | FlotillaError, request, reply) => {
    if (isDiskFull(err)) {
      logger.error({ err, url: request.url, method: request.method }, 'disk full: request refused');
      return reply.code(507).send({
        message: "507 Insufficient Storage: the coordinator's disk is full",
        code: 'FLO_ERR_DISK_FULL',
      });
    }
    if (isFlotillaError(err)) return reply.code(err.httpStatus).send(errorBody(err));
    if (isStoreUnavailable(err)) return refuseStoreUnavailable(err, request, reply, logger);
    const status = err.statusCode ?? 500;
    if (status === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .code(413)
        .send({ message: '413 Request Entity Too Large', code: 'FLO_ERR_PAYLOAD_TOO_LARGE' });
    }
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ message: `${status} ${err.message}`, code: 'FLO_ERR_BAD_REQUEST' });
    }
    logger.error({ err, url: request.url, method: request.method }, 'request failed');
    return reply.code(500).send({ message: '500 Internal Server Error', code: 'FLO_ERR_INTERNAL' });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ message: '404 Not Found' }));
}

function installParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    ['text/plain', 'application/octet-stream'],
    { parseAs: 'buffer' },
    (_r, body, done) => done(null, body),
  );
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
}

/** `uncached` answers /-/ready from the database itself (the caching store would hide an outage). */
function installMetrics(
  app: FastifyInstance,
  ctx: CoordinatorContext,
  registry: Registry,
  uncached: Store,
): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    ctx.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    ctx.metrics.httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.get('/-/health', async () => 'GitLab OK');
  app.get('/-/liveness', async () => ({ status: 'ok' }));
  app.get('/-/ready', async (_request, reply) => {
    try {
      await uncached.getUser(1);
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'failed' });
    }
  });
}

const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Nothing is acknowledged before it is durable: a request that may have written is answered only
 * once the store synced every commit made so far (one shared sync for all requests waiting, see
 * `Store.durable`). A failed sync fails the request (500) instead of acknowledging it.
 */
function installDurableReplies(app: FastifyInstance, store: Pick<StoreLifecycle, 'durable'>): void {
  app.addHook('onSend', (request, _reply, payload, done) => {
    if (READ_ONLY_METHODS.has(request.method)) return done(null, payload);
    store.durable().then(
      () => done(null, payload),
      (err: unknown) => done(err as Error),
    );
  });
}

export async function buildCoordinator(deps: CoordinatorDeps): Promise<Coordinator> {
  const app = fastify({
    logger: false,
    bodyLimit: 2 * 1024 * 1024,
    trustProxy: false,
    forceCloseConnections: true,
  });
  const metrics = createCoordinatorMetrics(deps.registry);
  const queue = new RunnerQueue(deps.queueBus);
  // Runner by token, project, variables, user: read on nearly every request (see caching-store.ts).
  const store = cachingStore(deps.store, { bus: deps.queueBus });
  const artifacts = new ArtifactStorage(deps.config.artifactsDir);
  const scheduler = new Scheduler({
    artifacts,
    store,
    repos: withCommitCache(deps.git),
    queue,
    clock: deps.clock,
    logger: deps.logger,
    config: deps.config,
    onJobStatus: (status) => metrics.jobsByStatus.inc({ status }),
    // The gate's turns on SQLite only; PostgreSQL's store orders its connections (SchedulerDeps.prioritiseUpdates).
    prioritiseUpdates: deps.store.dialect === 'sqlite',
    claimsInFlight: deps.store.connections,
  });
  const context: CoordinatorContext = {
    ...deps,
    store,
    scheduler,
    artifacts,
    metrics,
    watchedTraces: new Map(),
    sessionSecret: deps.config.sessionSecret ? Buffer.from(deps.config.sessionSecret) : randomBytes(32),
  };
  const routes = recordRoutes(app);
  await app.register(multipart);
  installParsers(app);
  installGitLabHttp(app);
  installErrorHandling(app, deps.logger);
  installMetrics(app, context, deps.registry, deps.store);
  installDurableReplies(app, store);
  registerObservabilityRoutes(app, context, deps.registry);
  registerRunnerApiRoutes(app, context);
  registerProjectRoutes(app, context);
  registerProjectEditRoutes(app, context);
  registerPipelineRoutes(app, context);
  registerPipelineDeleteRoutes(app, context);
  registerJobRoutes(app, context);
  registerJobLogStreamRoutes(app, context);
  registerJobArtifactFileRoutes(app, context);
  registerVariableRoutes(app, context);
  registerRunnerRoutes(app, context);
  registerRunnerFleetRoutes(app, context);
  registerFleetSampleRoutes(app, context);
  registerRunnerJobRoutes(app, context);
  registerUserRoutes(app, context);
  registerUserAdminRoutes(app, context);
  registerAccessTokenRoutes(app, context);
  registerLintRoutes(app, context);
  registerTestReportRoutes(app, context);
  registerEnvironmentRoutes(app, context);
  registerRepositoryRoutes(app, context);
  registerGitRoutes(app, context);
  registerUiRoutes(app, context);
  scheduler.start();
  return {
    app,
    scheduler,
    context,
    routes,
    close: async () => {
      await scheduler.stop();
      await app.close();
    },
  };
}
