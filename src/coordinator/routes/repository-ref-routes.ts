/** REST: branches and tags of a project's repository (GitLab's branches and tags APIs). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RE2JS } from 're2js';

import type { CoordinatorContext } from '../context.js';
import type { RefHead, TagDetails } from '../git/repository-api.js';
import { isRefProtected } from '../scheduler/variables/variables.js';
import { baseUrl, parsePage, setPaginationHeaders } from './http-helpers.js';
import {
  afterWrite,
  badRequest,
  commitOr404,
  committerOf,
  notFound,
  repoRequest,
  resolveCommitish,
  type RepoRequest,
} from './repository-helpers.js';
import * as param from './repository-params.js';
import { presentBranch, presentTag } from './repository-presenters.js';

/** GitLab's `search`: substring, `^term` prefix or `term$` suffix, case-insensitive. */
export function matchesSearch(name: string, search: string): boolean {
  const n = name.toLowerCase();
  const s = search.toLowerCase();
  if (s.startsWith('^')) return n.startsWith(s.slice(1));
  if (s.endsWith('$')) return n.endsWith(s.slice(0, -1));
  return n.includes(s);
}

function filterRefs<T extends RefHead>(refs: T[], r: RepoRequest): T[] {
  const search = param.optional(r.params, 'search');
  const regex = param.optional(r.params, 'regex');
  if (search !== undefined && regex !== undefined)
    throw badRequest('search, regex are mutually exclusive', 'regex');
  if (search !== undefined) return refs.filter((b) => matchesSearch(b.name, search));
  if (regex === undefined) return refs;
  let re: RE2JS;
  try {
    re = RE2JS.compile(regex);
  } catch {
    throw badRequest('Regex is invalid', 'regex');
  }
  return refs.filter((b) => re.matcher(b.name).find());
}

function sortRefs<T extends RefHead>(refs: T[], orderBy: string, sort: 'asc' | 'desc'): T[] {
  const by = {
    name: (a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    updated: (a: T, b: T) => a.committedAt - b.committedAt || (a.name < b.name ? -1 : 1),
    version: (a: T, b: T) => a.name.localeCompare(b.name, 'en', { numeric: true }),
  }[orderBy];
  if (!by) throw badRequest('order_by does not have a valid value', 'order_by');
  const sorted = [...refs].sort(by);
  return sort === 'desc' ? sorted.reverse() : sorted;
}

async function presentBranchOf(ctx: CoordinatorContext, r: RepoRequest, head: RefHead, merged: Set<string>) {
  const commit = await commitOr404(ctx, r, head.sha, 'Branch');
  return presentBranch(
    head.name,
    commit,
    {
      merged: merged.has(head.name),
      protected: isRefProtected(r.project, head.name, false),
      default: head.name === r.project.defaultBranch,
    },
    r.web,
  );
}

async function mergedBranches(ctx: CoordinatorContext, r: RepoRequest): Promise<Set<string>> {
  const target = await ctx.git.resolveRef(r.fullPath, `refs/heads/${r.project.defaultBranch}`);
  return target === null ? new Set() : ctx.git.branchesMergedInto(r.fullPath, target);
}

async function findBranch(ctx: CoordinatorContext, r: RepoRequest, name: string): Promise<RefHead | null> {
  const heads = await ctx.git.listBranchHeads(r.fullPath);
  return heads.find((h) => h.name === name) ?? null;
}

async function listBranches(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const r = await repoRequest(ctx, request);
  const sort = param.optional(r.params, 'sort') ?? 'name_asc';
  const order = {
    name_asc: ['name', 'asc'],
    updated_asc: ['updated', 'asc'],
    updated_desc: ['updated', 'desc'],
  }[sort] as [string, 'asc' | 'desc'] | undefined;
  if (!order) throw badRequest('sort does not have a valid value', 'sort');
  const heads = sortRefs(filterRefs(await ctx.git.listBranchHeads(r.fullPath), r), order[0], order[1]);
  const page = parsePage(r.params);
  const items = heads.slice((page.page - 1) * page.perPage, page.page * page.perPage);
  setPaginationHeaders(request, reply, page, { items, total: heads.length }, baseUrl(ctx));
  const merged = await mergedBranches(ctx, r);
  return Promise.all(items.map((h) => presentBranchOf(ctx, r, h, merged)));
}

async function createBranch(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const r = await repoRequest(ctx, request);
  const branch = param.required(r.params, 'branch');
  const ref = param.required(r.params, 'ref');
  if (!(await ctx.git.isValidRefName(`refs/heads/${branch}`)))
    throw badRequest('Branch name is invalid', 'branch');
  if (await findBranch(ctx, r, branch)) throw badRequest('Branch already exists', 'branch');
  const sha = await resolveCommitish(ctx, r, ref);
  if (sha === null)
    throw badRequest(`Failed to create branch '${branch}': invalid reference name '${ref}'`, 'ref');
  const update = await ctx.git.createBranch(r.fullPath, branch, sha);
  await afterWrite(ctx, r, update);
  const head: RefHead = { name: branch, sha, committedAt: 0 };
  return reply.code(201).send(await presentBranchOf(ctx, r, head, await mergedBranches(ctx, r)));
}

function registerBranchRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const base = '/api/v4/projects/:id/repository/branches';
  app.get(base, (request, reply) => listBranches(ctx, request, reply));
  app.post(base, (request, reply) => createBranch(ctx, request, reply));
  app.head(`${base}/:branch`, async (request, reply) => {
    const r = await repoRequest(ctx, request);
    return reply.code((await findBranch(ctx, r, param.ref(r, 'branch'))) ? 204 : 404).send();
  });
  app.get(`${base}/:branch`, async (request) => {
    const r = await repoRequest(ctx, request);
    const head = await findBranch(ctx, r, param.ref(r, 'branch'));
    if (!head) throw notFound('Branch');
    return presentBranchOf(ctx, r, head, await mergedBranches(ctx, r));
  });
  app.delete(`${base}/:branch`, async (request, reply) => {
    const r = await repoRequest(ctx, request);
    const head = await findBranch(ctx, r, param.ref(r, 'branch'));
    if (!head) throw notFound('Branch');
    if (head.name === r.project.defaultBranch) {
      throw badRequest('The default branch of a project cannot be deleted.', 'branch');
    }
    const update = await ctx.git.deleteBranch(r.fullPath, head.name, head.sha);
    await afterWrite(ctx, r, update);
    return reply.code(204).send();
  });
}

async function findTag(ctx: CoordinatorContext, r: RepoRequest, name: string): Promise<TagDetails | null> {
  return (await ctx.git.listTags(r.fullPath)).find((t) => t.name === name) ?? null;
}

async function presentTagOf(ctx: CoordinatorContext, r: RepoRequest, tag: TagDetails) {
  return presentTag(tag, await commitOr404(ctx, r, tag.sha, 'Tag'), r.web);
}

async function listTags(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const r = await repoRequest(ctx, request);
  const sort = param.optional(r.params, 'sort') ?? 'desc';
  if (sort !== 'asc' && sort !== 'desc') throw badRequest('sort does not have a valid value', 'sort');
  const tags = sortRefs(
    filterRefs(await ctx.git.listTags(r.fullPath), r),
    param.optional(r.params, 'order_by') ?? 'updated',
    sort,
  );
  const page = parsePage(r.params);
  const items = tags.slice((page.page - 1) * page.perPage, page.page * page.perPage);
  setPaginationHeaders(request, reply, page, { items, total: tags.length }, baseUrl(ctx));
  return Promise.all(items.map((t) => presentTagOf(ctx, r, t)));
}

async function createTag(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const r = await repoRequest(ctx, request);
  const name = param.required(r.params, 'tag_name');
  const ref = param.required(r.params, 'ref');
  const message = param.optional(r.params, 'message');
  if (!(await ctx.git.isValidRefName(`refs/tags/${name}`))) throw badRequest('Tag name invalid', 'tag_name');
  if (await findTag(ctx, r, name)) throw badRequest(`Tag ${name} already exists`, 'tag_name');
  const sha = await resolveCommitish(ctx, r, ref);
  if (sha === null) throw badRequest(`Target ${ref} is invalid`, 'ref');
  const tagger = committerOf(ctx, r.principal);
  const date = ctx.clock.now();
  const update = await ctx.git.createTag(r.fullPath, {
    name,
    sha,
    tagger,
    date,
    ...(message ? { message } : {}),
  });
  await afterWrite(ctx, r, update);
  const tag = await findTag(ctx, r, name);
  if (!tag) throw notFound('Tag');
  return reply.code(201).send(await presentTagOf(ctx, r, tag));
}

function registerTagRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const base = '/api/v4/projects/:id/repository/tags';
  app.get(base, (request, reply) => listTags(ctx, request, reply));
  app.post(base, (request, reply) => createTag(ctx, request, reply));
  app.get(`${base}/:tag_name`, async (request) => {
    const r = await repoRequest(ctx, request);
    const tag = await findTag(ctx, r, param.ref(r, 'tag_name'));
    if (!tag) throw notFound('Tag');
    return presentTagOf(ctx, r, tag);
  });
  app.delete(`${base}/:tag_name`, async (request, reply) => {
    const r = await repoRequest(ctx, request);
    const tag = await findTag(ctx, r, param.ref(r, 'tag_name'));
    if (!tag) throw notFound('Tag');
    await afterWrite(ctx, r, await ctx.git.deleteTag(r.fullPath, tag.name, tag.target));
    return reply.code(204).send();
  });
}

export function registerRepositoryRefRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  registerBranchRoutes(app, ctx);
  registerTagRoutes(app, ctx);
}
