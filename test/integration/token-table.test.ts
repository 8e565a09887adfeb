/**
 * Every route the coordinator serves, with every kind of bad credential: no token, a forged access
 * token, an expired one, one revoked through the API, a forged runner token, a deleted (revoked)
 * runner's token, a forged job token, a finished job's token, and a running job's token of another
 * project. Each must be
 * refused with 401 or 403 (404 where GitLab hides a project's existence). The route list comes
 * from the app itself, so a new route is in this table the moment it is added: if it forgets to
 * check its token, this test fails; only the routes listed in PUBLIC answer without one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hashToken } from '../../src/shared/hash.js';
import { TestApi } from '../../harness/api-client.js';
import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

/** Routes that answer without a token, and why. */
const PUBLIC: Record<string, string> = {
  'GET /metrics': 'Prometheus scrape',
  'GET /-/health': 'health check',
  'GET /-/liveness': 'health check',
  'GET /-/ready': 'health check',
  'GET /-/discovery/targets': 'Prometheus HTTP service discovery (manager addresses), as open as /metrics',
  'GET /': 'the web UI page (its data comes from the API, which needs a session or token)',
  'GET /-/ui/app/*': 'web UI static files',
  'GET /-/ui/vendor/:file': 'web UI static files',
  'POST /-/session': 'sign-in: takes a username and password, not a token',
  'DELETE /-/session': 'sign-out: ends the cookie session, if there is one',
};

/** Runner API routes whose `token` field is required: without any token GitLab answers 400 too. */
const TOKEN_REQUIRED = new Set([
  'POST /api/v4/runners/verify',
  'POST /api/v4/jobs/request',
  'POST /api/v4/runners/fleet',
]);

/** Routes that may answer 404 to a bad credential (hiding whether the project exists). */
const NOT_FOUND_OK = new Set(['GET /:ns/:repo/*', 'POST /:ns/:repo/*']);

const PIPELINE = `
build:
  script: [echo build]
`;

interface Credentials {
  headers: Record<string, string>;
  /** Merged into JSON bodies and query strings. */
  fields: Record<string, string>;
}

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };
const ids = { projectA: 0, pipelineA: 0, jobA: 0 };
const variants: [string, Credentials][] = [];

async function takeJob(runnerToken: string): Promise<{ id: number; token: string }> {
  const res = await c.api.until(async () => {
    const r = await c.api.post('/jobs/request', { token: runnerToken, info: { name: 'it' } });
    return r.status === 201 ? r : undefined;
  }, 'a job to be handed out');
  return { id: res.body.id, token: res.body.token };
}

async function pushProject(name: string): Promise<{ projectId: number; pipelineId: number }> {
  const project = await c.api.createProject(name);
  await createWorkRepo(`${work.dir}/${name}`, { '.gitlab-ci.yml': PIPELINE });
  await pushTo(`${work.dir}/${name}`, c.running.url, project.path_with_namespace, c.running.rootToken);
  const pipeline = await c.api.waitForPipeline(project.id);
  return { projectId: project.id, pipelineId: pipeline.id };
}

function jobCredentials(token: string): Credentials {
  return {
    headers: {
      'JOB-TOKEN': token,
      authorization: `Basic ${Buffer.from(`gitlab-ci-token:${token}`).toString('base64')}`,
    },
    fields: { token, job_token: token },
  };
}

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
  work = await tempDir();
  const runner = await c.api.createRunner({ description: 'tokens' });
  const a = await pushProject('tokens-a');
  ids.projectA = a.projectId;
  ids.pipelineA = a.pipelineId;
  const jobA = await takeJob(runner.token);
  ids.jobA = jobA.id;
  await c.api.call('PUT', `/jobs/${jobA.id}`, { token: jobA.token, state: 'success' });
  await pushProject('tokens-b');
  const jobB = await takeJob(runner.token);
  const doomed = await c.api.createRunner({ description: 'revoked' });
  expect((await c.api.call('DELETE', `/runners/${doomed.id}`)).status).toBe(204);
  const expired = 'glpat-expired-token-0123456789';
  await c.running.coordinator.context.store.createAccessToken({
    userId: 1,
    name: 'expired',
    tokenHash: hashToken(expired),
    scopes: ['api'],
    expiresAt: new Date(Date.now() - 86_400_000),
  });
  const revoked = await c.api.post('/users/1/personal_access_tokens', { name: 'revoked', scopes: ['api'] });
  const revokedApi = new TestApi(c.api.baseUrl, String(revoked.body.token));
  expect((await revokedApi.get('/user')).status).toBe(200);
  expect((await revokedApi.call('DELETE', '/personal_access_tokens/self')).status).toBe(204);
  const runnerCredentials = (token: string): Credentials => ({
    headers: { 'RUNNER-TOKEN': token },
    fields: { token },
  });
  variants.push(
    ['no token', { headers: {}, fields: {} }],
    ['forged access token', { headers: { 'PRIVATE-TOKEN': 'glpat-forged-0123456789abcdef' }, fields: {} }],
    ['expired access token', { headers: { authorization: `Bearer ${expired}` }, fields: {} }],
    ['revoked access token', { headers: { 'PRIVATE-TOKEN': revokedApi.token }, fields: {} }],
    ['forged runner token', runnerCredentials('glrt-forged-0123456789abcdef')],
    ['revoked runner token', runnerCredentials(doomed.token)],
    ['forged job token', jobCredentials('glcbt-forged-0123456789abcdef')],
    ['finished job token', jobCredentials(jobA.token)],
    ['other project job token', jobCredentials(jobB.token)],
  );
});

afterAll(async () => {
  await c?.stop();
  await work?.remove();
});

function concreteUrl(url: string): string {
  const projectScoped = url.startsWith('/api/v4/projects/');
  return url
    .replace(/:id\b/, String(projectScoped ? ids.projectA : ids.jobA))
    .replace(':job_id', String(ids.jobA))
    .replace(':pipeline_id', String(ids.pipelineA))
    .replace(':ns/:repo', 'root/tokens-a.git')
    .replace(/:[a-z_]+/g, '1')
    .replace('*', 'info/refs');
}

async function send(method: string, url: string, credentials: Credentials): Promise<number> {
  const target = new URL(concreteUrl(url), c.running.url);
  const hasBody = method !== 'GET' && method !== 'DELETE';
  if (!hasBody) for (const [k, v] of Object.entries(credentials.fields)) target.searchParams.set(k, v);
  if (url.endsWith('/*')) target.searchParams.set('service', 'git-upload-pack');
  const res = await fetch(target, {
    method,
    headers: { ...credentials.headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
    ...(hasBody ? { body: JSON.stringify({ ...credentials.fields, state: 'success', name: 'x' }) } : {}),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('token table over every route', () => {
  it('refuses every bad credential on every route that is not public', async () => {
    const routes = c.running.coordinator.routes.filter((r) => !(`${r.method} ${r.url}` in PUBLIC));
    expect(routes.length).toBeGreaterThan(50);
    const failures: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      for (const [name, credentials] of variants) {
        const allowed = NOT_FOUND_OK.has(key) ? [401, 403, 404] : [401, 403];
        if (TOKEN_REQUIRED.has(key) && credentials.fields['token'] === undefined) allowed.push(400);
        const status = await send(route.method, route.url, credentials);
        if (!allowed.includes(status)) failures.push(`${key} with ${name}: ${status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('serves the public routes without a token', async () => {
    for (const key of Object.keys(PUBLIC)) {
      const [method, url] = key.split(' ');
      const status = await send(method ?? 'GET', url ?? '/', { headers: {}, fields: {} });
      expect([401, 403], key).not.toContain(status);
      expect(status, key).toBeLessThan(500);
    }
  });
});
