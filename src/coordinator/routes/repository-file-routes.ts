/** REST: repository files (read, raw, create, update, delete) and the repository tree. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type { CommitAction } from '../git/repository-api.js';
import { actionPath } from '../git/repo-writes.js';
import { MAX_BLOB_BYTES } from '../git/repo-tree.js';
import { baseUrl, parsePage, setPaginationHeaders } from './http-helpers.js';
import { commitParams, commitThroughApi, decodeContent } from './repository-commit-write.js';
import {
  badRequest,
  notFound,
  repoRequest,
  resolveCommitish,
  type RepoRequest,
} from './repository-helpers.js';
import * as param from './repository-params.js';
import { fileHeaders, fileMetadata, presentTreeEntry } from './repository-presenters.js';

async function readFile(ctx: CoordinatorContext, r: RepoRequest, ref: string) {
  const path = actionPath(r.path['file_path'] ?? '');
  const sha = await resolveCommitish(ctx, r, ref);
  const blob = sha === null ? null : await ctx.git.blobAt(r.fullPath, sha, path);
  if (sha === null || !blob) throw notFound('File');
  if (blob.size > MAX_BLOB_BYTES) {
    throw new FlotillaError('FLO_ERR_PAYLOAD_TOO_LARGE', `${path} is larger than ${MAX_BLOB_BYTES} bytes`);
  }
  const lastCommitId = (await ctx.git.lastCommitFor(r.fullPath, sha, path)) ?? sha;
  const meta = fileMetadata(blob, { path, ref, commitId: sha, lastCommitId });
  return { blob, meta };
}

function sendHeaders(reply: FastifyReply, meta: ReturnType<typeof fileMetadata>): void {
  for (const [name, value] of Object.entries(fileHeaders(meta))) {
    reply.header(name, /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value));
  }
}

async function getFile(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const r = await repoRequest(ctx, request);
  const { blob, meta } = await readFile(ctx, r, param.required(r.params, 'ref'));
  sendHeaders(reply, meta);
  if (request.method === 'HEAD') return reply.code(200).send();
  return { ...meta, content: blob.content.toString('base64') };
}

async function getRaw(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const r = await repoRequest(ctx, request);
  const { blob, meta } = await readFile(ctx, r, param.optional(r.params, 'ref') ?? 'HEAD');
  sendHeaders(reply, meta);
  return reply.type('text/plain; charset=utf-8').send(blob.content);
}

function fileAction(r: RepoRequest, kind: 'create' | 'update' | 'delete'): CommitAction {
  const filePath = actionPath(r.path['file_path'] ?? '');
  const lastCommitId = param.optional(r.params, 'last_commit_id');
  const last = kind !== 'create' && lastCommitId !== undefined ? { lastCommitId } : {};
  if (kind === 'delete') return { action: 'delete', filePath, ...last };
  const raw = r.params['content'];
  if (typeof raw !== 'string') throw badRequest('content is missing', 'content');
  const execute = param.flag(r.params, 'execute_filemode');
  return {
    action: kind,
    filePath,
    content: decodeContent(raw, param.optional(r.params, 'encoding'), 'content'),
    ...last,
    ...(execute === undefined ? {} : { executeFilemode: execute }),
  };
}

async function writeFile(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  kind: 'create' | 'update' | 'delete',
) {
  const r = await repoRequest(ctx, request);
  const input = commitParams(r.params, () => [fileAction(r, kind)]);
  await commitThroughApi(ctx, r, input);
  if (kind === 'delete') return reply.code(204).send();
  const filePath = input.actions[0]?.filePath ?? '';
  return reply.code(kind === 'create' ? 201 : 200).send({ file_path: filePath, branch: input.branch });
}

async function listTree(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const r = await repoRequest(ctx, request);
  const rawPath = param.optional(r.params, 'path');
  const path = rawPath === undefined || rawPath.replace(/\/+$/, '') === '' ? '' : actionPath(rawPath, 'path');
  const sha = await resolveCommitish(ctx, r, param.optional(r.params, 'ref') ?? 'HEAD');
  const entries =
    sha === null
      ? null
      : await ctx.git.listTree(r.fullPath, sha, path, param.flag(r.params, 'recursive') === true);
  if (entries === null) throw notFound('Tree');
  const page = parsePage(r.params);
  const items = entries.slice((page.page - 1) * page.perPage, page.page * page.perPage);
  setPaginationHeaders(request, reply, page, { items, total: entries.length }, baseUrl(ctx));
  return items.map(presentTreeEntry);
}

export function registerRepositoryFileRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const file = '/api/v4/projects/:id/repository/files/:file_path';
  app.route({
    method: ['GET', 'HEAD'],
    url: file,
    handler: (request, reply) => getFile(ctx, request, reply),
  });
  app.route({
    method: ['GET', 'HEAD'],
    url: `${file}/raw`,
    handler: (request, reply) => getRaw(ctx, request, reply),
  });
  app.post(file, (request, reply) => writeFile(ctx, request, reply, 'create'));
  app.put(file, (request, reply) => writeFile(ctx, request, reply, 'update'));
  app.delete(file, (request, reply) => writeFile(ctx, request, reply, 'delete'));
  app.get('/api/v4/projects/:id/repository/tree', (request, reply) => listTree(ctx, request, reply));
}
