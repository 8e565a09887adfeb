/** REST: runners (create with a glrt- token, list, show, update/pause, delete). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { RUNNER_TOKEN_PREFIX } from '../../api/runner-api.js';
import { FlotillaError } from '../../shared/errors.js';
import { hashToken, newToken } from '../../shared/hash.js';
import { requireAdmin } from '../auth.js';
import type { CoordinatorContext } from '../context.js';
import type { AccessLevel, RunnerPatch, RunnerRecord, RunnerType } from '../store/store.js';
import {
  bodyOf,
  bool,
  int,
  parseId,
  parsePage,
  setPaginationHeaders,
  str,
  tagList,
  type Body,
  baseUrl,
} from './http-helpers.js';
import { presentRunner, presentRunnerDetail, runnerStatus } from './presenters.js';
import { auth, resolveProject } from './project-routes.js';

const RUNNER_TYPES: RunnerType[] = ['instance_type', 'group_type', 'project_type'];
const ACCESS_LEVELS: AccessLevel[] = ['not_protected', 'ref_protected'];

function oneOf<T extends string>(value: string | undefined, allowed: T[], field: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as string[]).includes(value)) {
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      `${field} does not have a valid value (allowed: ${allowed.join(', ')})`,
    );
  }
  return value as T;
}

function readPatch(body: Body): RunnerPatch {
  const patch: RunnerPatch = {};
  const description = str(body, 'description');
  if (description !== undefined) patch.description = description;
  const tags = tagList(body);
  if (tags !== undefined) patch.tagList = tags;
  const runUntagged = bool(body, 'run_untagged');
  if (runUntagged !== undefined) patch.runUntagged = runUntagged;
  const paused =
    bool(body, 'paused') ?? (bool(body, 'active') === undefined ? undefined : !bool(body, 'active'));
  if (paused !== undefined) patch.paused = paused;
  const locked = bool(body, 'locked');
  if (locked !== undefined) patch.locked = locked;
  const access = oneOf(str(body, 'access_level'), ACCESS_LEVELS, 'access_level');
  if (access) patch.accessLevel = access;
  const maxTimeout = int(body, 'maximum_timeout');
  if (maxTimeout !== undefined) {
    if (maxTimeout < 600)
      throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'maximum_timeout needs to be at least 10 minutes');
    patch.maximumTimeout = maxTimeout;
  }
  const note = str(body, 'maintenance_note');
  if (note !== undefined) patch.maintenanceNote = note;
  return patch;
}

async function loadRunner(ctx: CoordinatorContext, request: FastifyRequest): Promise<RunnerRecord> {
  const runner = await ctx.store.getRunner(
    parseId((request.params as Record<string, string>)['id'], 'Runner'),
  );
  if (!runner) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Runner Not Found');
  return runner;
}

function matchesFilters(r: RunnerRecord, query: Record<string, unknown>): boolean {
  if (typeof query['type'] === 'string' && r.runnerType !== query['type']) return false;
  if (query['paused'] !== undefined && String(r.paused) !== String(query['paused'])) return false;
  if (typeof query['status'] === 'string' && runnerStatus(r) !== query['status']) return false;
  const tags = tagList(query);
  return !tags || tags.every((t) => r.tagList.includes(t));
}

export function registerRunnerRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const base = (): string => baseUrl(ctx);
  app.post('/api/v4/user/runners', async (request, reply) => {
    const principal = await auth(ctx, request);
    requireAdmin(principal);
    const body = bodyOf(request);
    const runnerType = oneOf(str(body, 'runner_type'), RUNNER_TYPES, 'runner_type') ?? 'instance_type';
    if (runnerType !== 'instance_type') {
      throw new FlotillaError(
        'FLO_ERR_BAD_REQUEST',
        'runner_type: only instance_type runners exist on this coordinator',
      );
    }
    const patch = readPatch(body);
    const token = newToken(RUNNER_TOKEN_PREFIX);
    const runner = await ctx.store.createRunner({
      tokenHash: hashToken(token),
      description: patch.description ?? '',
      tagList: patch.tagList ?? [],
      runUntagged: patch.runUntagged ?? (patch.tagList ?? []).length === 0,
      paused: patch.paused ?? false,
      locked: patch.locked ?? false,
      accessLevel: patch.accessLevel ?? 'not_protected',
      maximumTimeout: patch.maximumTimeout ?? null,
      runnerType,
      maintenanceNote: patch.maintenanceNote ?? null,
    });
    ctx.logger.info({ runnerId: runner.id }, 'runner created');
    return reply.code(201).send({ id: runner.id, token, token_expires_at: null });
  });
  const list = async (request: FastifyRequest, reply: FastifyReply) => {
    await auth(ctx, request);
    const query = request.query as Record<string, unknown>;
    const page = parsePage(query);
    const all = await ctx.store.listRunners({ page: 1, perPage: 100_000 });
    const filtered = all.items.filter((r) => matchesFilters(r, query));
    const items = filtered.slice((page.page - 1) * page.perPage, page.page * page.perPage);
    setPaginationHeaders(request, reply, page, { items, total: filtered.length }, base());
    return items.map(presentRunner);
  };
  app.get('/api/v4/runners/all', list);
  app.get('/api/v4/runners', list);
  // Every runner here is an instance runner, and every project may use instance runners.
  app.get('/api/v4/projects/:id/runners', async (request, reply) => {
    await auth(ctx, request);
    await resolveProject(ctx, (request.params as Record<string, string>)['id'], request);
    return list(request, reply);
  });
  app.get('/api/v4/runners/:id', async (request) => {
    await auth(ctx, request);
    return presentRunnerDetail(await loadRunner(ctx, request));
  });
  app.put('/api/v4/runners/:id', async (request) => {
    requireAdmin(await auth(ctx, request));
    const runner = await loadRunner(ctx, request);
    const updated = await ctx.store.updateRunner(runner.id, readPatch(bodyOf(request)));
    if (!updated) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Runner Not Found');
    ctx.scheduler.deps.queue.bump(runner.id);
    return presentRunnerDetail(updated);
  });
  app.delete('/api/v4/runners/:id', async (request, reply) => {
    requireAdmin(await auth(ctx, request));
    const runner = await loadRunner(ctx, request);
    await ctx.store.deleteRunner(runner.id);
    ctx.scheduler.deps.queue.forget(runner.id);
    return reply.code(204).send();
  });
}
