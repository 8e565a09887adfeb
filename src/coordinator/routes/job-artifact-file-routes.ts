/**
 * Files inside a job's artifacts archive, for browsing:
 * - `GET /api/v4/projects/:id/jobs/:job_id/artifacts/*artifact_path` (GitLab): one file of the
 *   archive, streamed; 404 when the archive has no such file.
 * - `GET /api/v4/projects/:id/jobs/:job_id/artifacts_entries` (Flotilla extension): the archive's
 *   entries `{ entries: [{ path, size, directory, symlink }], truncated }`, the first 10,000.
 * Both as the archive download: the project must be visible, and `artifacts:access: none` is 403.
 */
import { finished } from 'node:stream/promises';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import { walkZip } from '../../shared/zip-entries.js';
import type { CoordinatorContext } from '../context.js';
import type { ArtifactRecord } from '../store/store.js';
import { parseId } from './http-helpers.js';
import { auth, resolveProject } from './project-routes.js';

const MAX_ENTRIES = 10_000;

class Found extends Error {}

async function archiveOf(ctx: CoordinatorContext, request: FastifyRequest): Promise<ArtifactRecord> {
  await auth(ctx, request);
  const params = request.params as Record<string, string>;
  const project = await resolveProject(ctx, params['id'], request);
  const job = await ctx.store.getJob(parseId(params['job_id'], 'Job'));
  if (!job || job.projectId !== project.id) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Job Not Found');
  if (job.definition.artifacts?.access === 'none')
    throw new FlotillaError('FLO_ERR_FORBIDDEN', '403 Forbidden - the job says artifacts:access: none', {
      details: { job: job.id },
    });
  const archive = (await ctx.store.listArtifacts(job.id)).find((a) => a.fileType === 'archive');
  if (!archive || archive.fileFormat !== 'zip' || !(await ctx.artifacts.exists(archive.storageKey)))
    throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Artifacts Not Found');
  return archive;
}

async function listEntries(ctx: CoordinatorContext, request: FastifyRequest) {
  const archive = await archiveOf(ctx, request);
  const entries: { path: string; size: number; directory: boolean; symlink: boolean }[] = [];
  let truncated = false;
  await walkZip(ctx.artifacts.localPath(archive.storageKey), async (e) => {
    if (entries.length >= MAX_ENTRIES) {
      truncated = true;
      throw new Found();
    }
    entries.push({ path: e.name, size: e.uncompressedSize, directory: e.isDirectory, symlink: e.isSymlink });
    return Promise.resolve();
  }).catch((err: unknown) => {
    if (!(err instanceof Found)) throw err;
  });
  return { entries, truncated };
}

async function sendFile(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const archive = await archiveOf(ctx, request);
  const wanted = ((request.params as Record<string, string>)['*'] ?? '').replace(/^\/+/, '');
  try {
    await walkZip(ctx.artifacts.localPath(archive.storageKey), async (e) => {
      if (e.name !== wanted || e.isDirectory || e.isSymlink) return;
      const stream = await e.open();
      const name = wanted.slice(wanted.lastIndexOf('/') + 1).replace(/["\\\r\n]/g, '_');
      reply.header('Content-Type', 'application/octet-stream');
      reply.header('Content-Disposition', `attachment; filename="${name}"`);
      reply.header('Content-Length', String(e.uncompressedSize));
      void reply.send(stream);
      await finished(stream).catch(() => undefined);
      throw new Found();
    });
  } catch (err) {
    if (err instanceof Found) return reply;
    throw err;
  }
  throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Not Found: no such file in the artifacts archive', {
    details: { path: wanted },
  });
}

export function registerJobArtifactFileRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get('/api/v4/projects/:id/jobs/:job_id/artifacts_entries', (request) => listEntries(ctx, request));
  app.get('/api/v4/projects/:id/jobs/:job_id/artifacts/*', (request, reply) => sendFile(ctx, request, reply));
}
