/** Artifacts over the Runner API: upload by the job itself, download by dependent jobs. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { HEADER_JOB_TOKEN } from '../../api/runner-api.js';
import { FlotillaError, errorMessage } from '../../shared/errors.js';
import { parseDuration } from '../../shared/duration.js';
import { findActiveJob, findPrincipal, accessTokenFrom } from '../auth.js';
import { checkZipArchive } from '../artifacts/archive-check.js';
import type { CoordinatorContext } from '../context.js';
import type { JobRecord } from '../store/store.js';
import { authenticateJob } from './runner-api-routes.js';
import { headerString, parseId } from './http-helpers.js';

const FORMATS = new Set(['zip', 'gzip', 'raw']);
/** A zip may expand to this many times the upload limit (a zip bomb expands much further). */
const EXPANSION_LIMIT = 100;
const MAX_ENTRIES = 100_000;

function expireAt(ctx: CoordinatorContext, expireIn: string | undefined): Date | null {
  if (!expireIn || expireIn === 'never') return null;
  try {
    return new Date(ctx.clock.now().getTime() + parseDuration(expireIn) * 1000);
  } catch {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `expire_in "${expireIn}" is not a duration`);
  }
}

async function upload(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const query = request.query as Record<string, string | undefined>;
  const job = await authenticateJob(
    ctx,
    request,
    reply,
    headerString(request, HEADER_JOB_TOKEN) ?? query['token'],
  );
  if (!request.isMultipart())
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      '400 Bad Request: expected multipart/form-data with a "file" part',
    );
  const fileType = query['artifact_type'] ?? 'archive';
  const format = query['artifact_format'] ?? 'zip';
  if (!FORMATS.has(format))
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `artifact_format must be one of zip, gzip, raw`);
  const part = await request.file({ limits: { fileSize: ctx.config.maxArtifactBytes, files: 1 } });
  if (!part) throw new FlotillaError('FLO_ERR_BAD_REQUEST', '400 Bad Request: "file" is missing');
  const filename = part.filename || (format === 'zip' ? 'artifacts.zip' : 'artifacts');
  const key = ctx.artifacts.keyFor(job.id, fileType, filename);
  const size = await ctx.artifacts.write(key, part.file, ctx.config.maxArtifactBytes);
  if (part.file.truncated)
    throw new FlotillaError(
      'FLO_ERR_PAYLOAD_TOO_LARGE',
      `413 artifact is larger than ${ctx.config.maxArtifactBytes} bytes`,
    );
  if (format === 'zip') await refuseUnsafeArchive(ctx, job, key);
  await ctx.store.addArtifact({
    jobId: job.id,
    fileType,
    fileFormat: format,
    filename,
    size,
    storageKey: key,
    expireAt: expireAt(ctx, query['expire_in']),
  });
  ctx.logger.info({ jobId: job.id, fileType, size }, 'artifact stored');
  return reply.code(201).send({});
}

/** Removes an uploaded zip that a dependent job could not extract safely, and says why. */
async function refuseUnsafeArchive(ctx: CoordinatorContext, job: JobRecord, key: string): Promise<void> {
  try {
    await checkZipArchive(ctx.artifacts.localPath(key), {
      maxExpandedBytes: ctx.config.maxArtifactBytes * EXPANSION_LIMIT,
      maxEntries: MAX_ENTRIES,
    });
  } catch (err) {
    await ctx.artifacts.remove(key);
    ctx.logger.warn({ jobId: job.id, err: errorMessage(err) }, 'artifacts upload refused');
    throw err;
  }
}

/** Who may download: a running job of the same project (job token), or an access token. */
async function mayDownload(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  target: JobRecord,
): Promise<boolean> {
  const query = request.query as Record<string, unknown>;
  const jobToken =
    headerString(request, HEADER_JOB_TOKEN) ??
    (typeof query['job_token'] === 'string' ? query['job_token'] : undefined);
  if (jobToken) {
    const job = await findActiveJob(ctx.store, jobToken);
    return job !== null && job.projectId === target.projectId;
  }
  return (await findPrincipal(ctx.store, accessTokenFrom(request.headers, query), ctx.clock.now())) !== null;
}

export async function sendArchive(
  ctx: CoordinatorContext,
  job: JobRecord,
  reply: FastifyReply,
): Promise<unknown> {
  const archive = (await ctx.store.listArtifacts(job.id)).find((a) => a.fileType === 'archive');
  if (!archive || !(await ctx.artifacts.exists(archive.storageKey))) {
    throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Not Found');
  }
  reply.header('Content-Type', archive.fileFormat === 'zip' ? 'application/zip' : 'application/octet-stream');
  reply.header('Content-Disposition', `attachment; filename="${archive.filename}"`);
  reply.header('Content-Length', String(archive.size));
  return reply.send(ctx.artifacts.read(archive.storageKey));
}

async function download(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const jobId = parseId((request.params as Record<string, string>)['id'], 'Job');
  const target = await ctx.store.getJob(jobId);
  if (!target) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Job Not Found');
  if (!(await mayDownload(ctx, request, target)))
    throw new FlotillaError('FLO_ERR_FORBIDDEN', '403 Forbidden');
  return sendArchive(ctx, target, reply);
}

export function registerArtifactRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.post('/api/v4/jobs/:id/artifacts', (request, reply) => upload(ctx, request, reply));
  app.get('/api/v4/jobs/:id/artifacts', (request, reply) => download(ctx, request, reply));
}
