/** REST: commits (list, show, diff, create) and compare of a project's repository. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { CoordinatorContext } from '../context.js';
import type { CommitDetails } from '../git/repository-api.js';
import type { PipelineRecord } from '../store/store.js';
import { baseUrl, parsePage, setPaginationHeaders } from './http-helpers.js';
import { commitParams, commitThroughApi, parseActions } from './repository-commit-write.js';
import {
  commitOr404,
  notFound,
  repoRequest,
  resolveCommitish,
  setOpenPaginationHeaders,
  type RepoRequest,
} from './repository-helpers.js';
import * as param from './repository-params.js';
import { presentCommit, presentDiff, presentStats } from './repository-presenters.js';

/** `ref_name` as GitLab takes it: a ref or sha, or a range `a..b` / `a...b`. */
async function revisions(ctx: CoordinatorContext, r: RepoRequest, refName: string): Promise<string[] | null> {
  const range = /^(.+?)(\.\.\.?)(.+)$/.exec(refName);
  if (!range) {
    const sha = await resolveCommitish(ctx, r, refName);
    return sha === null ? null : [sha];
  }
  const [from, to] = await Promise.all([
    resolveCommitish(ctx, r, range[1] ?? ''),
    resolveCommitish(ctx, r, range[3] ?? ''),
  ]);
  if (from === null || to === null) return null;
  return [`${from}${range[2]}${to}`];
}

async function listCommits(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const r = await repoRequest(ctx, request);
  const page = parsePage(r.params);
  const all = param.flag(r.params, 'all') === true;
  const revs = all
    ? []
    : await revisions(ctx, r, param.optional(r.params, 'ref_name') ?? r.project.defaultBranch);
  const path = param.optional(r.params, 'path');
  const since = param.date(r.params, 'since');
  const until = param.date(r.params, 'until');
  const list =
    revs === null
      ? []
      : await ctx.git.listCommits(r.fullPath, {
          revisions: revs,
          all,
          skip: (page.page - 1) * page.perPage,
          limit: page.perPage + 1,
          ...(path !== undefined ? { path } : {}),
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
          ...(param.flag(r.params, 'first_parent') ? { firstParent: true } : {}),
        });
  setOpenPaginationHeaders(request, reply, ctx, page, list.length > page.perPage);
  const withStats = param.flag(r.params, 'with_stats') === true;
  return Promise.all(
    list.slice(0, page.perPage).map(async (c) => ({
      ...presentCommit(c, r.web),
      ...(withStats
        ? { stats: presentStats(await ctx.git.diffStats(r.fullPath, c.parentIds[0] ?? null, c.id)) }
        : {}),
    })),
  );
}

function presentLastPipeline(r: RepoRequest, p: PipelineRecord | undefined) {
  if (!p) return null;
  return {
    id: p.id,
    iid: p.iid,
    project_id: p.projectId,
    sha: p.sha,
    ref: p.ref,
    status: p.status,
    source: p.source,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    web_url: `${r.web}/-/pipelines/${p.id}`,
  };
}

/** GitLab's CommitDetail: the commit, stats (unless `stats=false`), last pipeline and status. */
async function commitDetail(
  ctx: CoordinatorContext,
  r: RepoRequest,
  c: CommitDetails,
  stats: boolean,
  latest?: PipelineRecord,
) {
  const pipeline =
    latest ?? (await ctx.store.listPipelines(r.project.id, { sha: c.id }, { page: 1, perPage: 1 })).items[0];
  const last = presentLastPipeline(r, pipeline);
  return {
    ...presentCommit(c, r.web),
    ...(stats
      ? { stats: presentStats(await ctx.git.diffStats(r.fullPath, c.parentIds[0] ?? null, c.id)) }
      : {}),
    last_pipeline: last,
    status: last?.status ?? null,
    project_id: r.project.id,
  };
}

async function createCommit(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const r = await repoRequest(ctx, request);
  const input = commitParams(r.params, () => parseActions(r.params['actions']));
  const result = await commitThroughApi(ctx, r, input);
  const detail = await commitDetail(
    ctx,
    r,
    result.commit,
    param.flag(r.params, 'stats') !== false,
    result.pipelines[0],
  );
  return reply.code(201).send(detail);
}

async function compare(ctx: CoordinatorContext, request: FastifyRequest) {
  const r = await repoRequest(ctx, request);
  const fromRef = param.required(r.params, 'from');
  const toRef = param.required(r.params, 'to');
  const [from, to] = await Promise.all([resolveCommitish(ctx, r, fromRef), resolveCommitish(ctx, r, toRef)]);
  if (from === null || to === null) throw notFound('Ref');
  const straight = param.flag(r.params, 'straight') === true;
  const base = straight ? from : ((await ctx.git.mergeBase(r.fullPath, from, to)) ?? from);
  const commits = await ctx.git.commitsBetween(r.fullPath, base, to, 10_000);
  const diffs = from === to ? [] : await ctx.git.diff(r.fullPath, base, to);
  const last = commits[commits.length - 1];
  return {
    commit: last ? presentCommit(last, r.web) : null,
    commits: commits.map((c) => presentCommit(c, r.web)),
    diffs: diffs.map(presentDiff),
    compare_timeout: false,
    compare_same_ref: from === to,
    web_url: `${r.web}/-/compare/${from}${straight ? '..' : '...'}${to}`,
  };
}

export function registerRepositoryCommitRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const base = '/api/v4/projects/:id/repository/commits';
  app.get(base, (request, reply) => listCommits(ctx, request, reply));
  app.post(base, (request, reply) => createCommit(ctx, request, reply));
  app.get(`${base}/:sha`, async (request) => {
    const r = await repoRequest(ctx, request);
    const commit = await commitOr404(ctx, r, r.path['sha'] ?? '');
    return commitDetail(ctx, r, commit, param.flag(r.params, 'stats') !== false);
  });
  app.get(`${base}/:sha/diff`, async (request, reply) => {
    const r = await repoRequest(ctx, request);
    const commit = await commitOr404(ctx, r, r.path['sha'] ?? '');
    const diffs = await ctx.git.diff(r.fullPath, commit.parentIds[0] ?? null, commit.id);
    const page = parsePage(r.params);
    const items = diffs.slice((page.page - 1) * page.perPage, page.page * page.perPage);
    setPaginationHeaders(request, reply, page, { items, total: diffs.length }, baseUrl(ctx));
    return items.map(presentDiff);
  });
  app.get('/api/v4/projects/:id/repository/compare', (request) => compare(ctx, request));
}
