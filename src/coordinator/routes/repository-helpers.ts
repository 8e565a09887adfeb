/** Shared plumbing of the repository API routes: project + auth, errors, refs, the committer, writes. */
import type { FastifyReply, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import type { Principal } from '../auth.js';
import type { CoordinatorContext } from '../context.js';
import type { CommitDetails, Identity } from '../git/repository-api.js';
import type { RefUpdate } from '../git/git-host.js';
import type { PipelineRecord, ProjectRecord } from '../store/store.js';
import { baseUrl, bodyOf, setPageLinks, type Body } from './http-helpers.js';
import { auth, resolveProject } from './project-routes.js';
import { onRefsUpdated } from './push-pipelines.js';
import { projectUrl } from './repository-presenters.js';

export interface RepoRequest {
  principal: Principal;
  project: ProjectRecord;
  fullPath: string;
  /** `https://host/ns/project`, the base of web URLs. */
  web: string;
  /** Query string and body merged (GitLab reads parameters from either). */
  params: Body;
  path: Record<string, string>;
}

export async function repoRequest(ctx: CoordinatorContext, request: FastifyRequest): Promise<RepoRequest> {
  const principal = await auth(ctx, request);
  const path = request.params as Record<string, string>;
  const project = await resolveProject(ctx, path['id'], request);
  return {
    principal,
    project,
    fullPath: `${project.namespacePath}/${project.path}`,
    web: projectUrl(baseUrl(ctx), project),
    params: { ...(request.query as Body), ...bodyOf(request) },
    path,
  };
}

export function notFound(what: string): FlotillaError {
  return new FlotillaError('FLO_ERR_NOT_FOUND', `404 ${what} Not Found`);
}

export function badRequest(message: string, field?: string): FlotillaError {
  return new FlotillaError('FLO_ERR_BAD_REQUEST', message, field ? { details: { field } } : {});
}

/** The commit a branch, tag or sha names (`HEAD`: the default branch), or null. */
export async function resolveCommitish(
  ctx: CoordinatorContext,
  r: RepoRequest,
  ref: string,
): Promise<string | null> {
  const name = ref === 'HEAD' ? r.project.defaultBranch : ref;
  return ctx.git.resolveRef(r.fullPath, name);
}

/** The commit details or GitLab's 404 naming `what`. */
export async function commitOr404(
  ctx: CoordinatorContext,
  r: RepoRequest,
  ref: string,
  what = 'Commit',
): Promise<CommitDetails> {
  const sha = await resolveCommitish(ctx, r, ref);
  const commit = sha === null ? null : await ctx.git.getCommit(r.fullPath, sha);
  if (!commit) throw notFound(what);
  return commit;
}

/** The committer of API writes: the user (GitLab uses the user's commit email). */
export function committerOf(ctx: CoordinatorContext, principal: Principal): Identity {
  const host = new URL(baseUrl(ctx)).hostname || 'localhost';
  const { user } = principal;
  return { name: user.name || user.username, email: `${user.id}-${user.username}@users.noreply.${host}` };
}

/** After an API write: the same handling as a push (pipelines), by the acting user. */
export function afterWrite(
  ctx: CoordinatorContext,
  r: RepoRequest,
  update: RefUpdate,
): Promise<PipelineRecord[]> {
  return onRefsUpdated(ctx, r.project, r.principal.user.id, [update]);
}

/** Page-based pagination without totals, as GitLab's commits list (no X-Total). */
export function setOpenPaginationHeaders(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: CoordinatorContext,
  page: { page: number; perPage: number },
  hasNext: boolean,
): void {
  reply.header('X-Page', String(page.page));
  reply.header('X-Per-Page', String(page.perPage));
  setPageLinks(request, reply, baseUrl(ctx), page, { hasNext });
}
