/**
 * HTTP details GitLab clients depend on, beyond the routes themselves:
 * - JSON responses carry exactly `Content-Type: application/json` (python-gitlab parses a body as
 *   JSON only for that exact value; fastify would add `; charset=utf-8`);
 * - a request with `Content-Type: application/json` and an empty body is accepted as no parameters
 *   (python-gitlab's DELETE, gitbeaker's `POST .../play`), as GitLab accepts it;
 * - the route table is recorded as routes are added, for docs/api.md.
 */
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  url: string;
}

const JSON_WITH_CHARSET = /^application\/json\s*;/i;

export function installGitLabHttp(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim().length === 0) {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
  // Callback hooks, not async ones: no promise per response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && JSON_WITH_CHARSET.test(type))
      reply.header('content-type', 'application/json');
    done(null, payload);
  });
}

/** Records every route added to `app` from now on (HEAD routes, which fastify adds for every GET, excluded). */
export function recordRoutes(app: FastifyInstance): RouteEntry[] {
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: route.url });
    }
  });
  return routes;
}
