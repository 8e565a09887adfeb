/**
 * Git smart HTTP at `/<namespace>/<project>.git/...`, served by git's own http-backend.
 * Basic auth: any username with an access token as password (fetch and push), or
 * `gitlab-ci-token:<job token>` (fetch of that job's project only). A push to a branch or tag
 * creates a pipeline for the pushed commit, as GitLab does.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { basicCredentials, findActiveJob, findPrincipal } from '../auth.js';
import type { CoordinatorContext } from '../context.js';
import type { ProjectRecord } from '../store/store.js';
import { onRefsUpdated } from './push-pipelines.js';

interface Access {
  user: string;
  userId: number;
  push: boolean;
}

async function access(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  project: ProjectRecord,
): Promise<Access | null> {
  const creds = basicCredentials(request.headers);
  if (!creds) return project.visibility === 'public' ? { user: 'anonymous', userId: 0, push: false } : null;
  if (creds.username === 'gitlab-ci-token') {
    const job = await findActiveJob(ctx.store, creds.password);
    return job && job.projectId === project.id
      ? { user: 'gitlab-ci-token', userId: job.userId, push: false }
      : null;
  }
  const principal = await findPrincipal(ctx.store, creds.password, ctx.clock.now());
  return principal ? { user: principal.user.username, userId: principal.user.id, push: true } : null;
}

function deny(reply: FastifyReply, authenticated: boolean): FastifyReply {
  if (!authenticated) {
    return reply
      .code(401)
      .header('WWW-Authenticate', 'Basic realm="Flotilla"')
      .send('HTTP Basic: Access denied\n');
  }
  return reply.code(403).send('You are not allowed to push code to this project.\n');
}

async function handle(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const params = request.params as Record<string, string>;
  const repo = params['repo'] ?? '';
  if (!repo.endsWith('.git')) return reply.code(404).send({ message: '404 Not Found' });
  const project = await ctx.store.findProjectByPath(params['ns'] ?? '', repo.slice(0, -4));
  if (!project) return reply.code(404).send('Repository not found\n');
  const who = await access(ctx, request, project);
  if (!who) return deny(reply, false);
  const pathInfo = '/' + (params['*'] ?? '');
  const wantsPush =
    pathInfo.endsWith('git-receive-pack') ||
    String((request.query as Record<string, unknown>)['service']) === 'git-receive-pack';
  if (wantsPush && !who.push) return deny(reply, who.user !== 'anonymous');
  reply.hijack();
  await ctx.git.serveHttp(request.raw, reply.raw, {
    fullPath: `${project.namespacePath}/${project.path}`,
    pathInfo,
    remoteUser: who.user,
    allowPush: who.push,
    onPush: async (updates) => {
      await onRefsUpdated(ctx, project, who.userId || 1, updates);
    },
  });
  return undefined;
}

export function registerGitRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.addContentTypeParser(
    ['application/x-git-upload-pack-request', 'application/x-git-receive-pack-request'],
    (_request, _payload, done) => done(null, undefined),
  );
  app.route({
    method: ['GET', 'POST'],
    url: '/:ns/:repo/*',
    handler: (request, reply) => handle(ctx, request, reply),
  });
}
