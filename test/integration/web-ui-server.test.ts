/**
 * The web UI's server side over real HTTP: the page and its files, sign-in with a personal access
 * token (cookie attributes, wrong token), the session cookie on the REST API with CSRF on every
 * change, sign-out, project visibility between users, the admin user/token API, and the job log
 * stream (Server-Sent Events).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestApi } from '../../harness/api-client.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';

let c: TestCoordinator;

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
});

afterAll(async () => {
  await c.stop();
});

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
}

async function signIn(token: string): Promise<Session> {
  const res = await fetch(`${c.api.baseUrl}/-/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const body = (await res.json()) as { csrf_token: string };
  return { cookie: setCookie.split(';')[0] ?? '', csrf: body.csrf_token, setCookie };
}

function withCookie(
  s: Session,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
) {
  return fetch(`${c.api.baseUrl}${path}`, {
    method,
    headers: {
      cookie: s.cookie,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function newUser(username: string): Promise<{ id: number; token: string; api: TestApi }> {
  const user = await c.api.post('/users', {
    username,
    name: `User ${username}`,
    email: `${username}@example.com`,
  });
  expect(user.status, user.text).toBe(201);
  const pat = await c.api.post(`/users/${user.body.id}/personal_access_tokens`, {
    name: 'ui',
    scopes: ['api'],
  });
  expect(pat.status, pat.text).toBe(201);
  expect(pat.body.token).toMatch(/^glpat-/);
  return { id: user.body.id, token: pat.body.token, api: new TestApi(c.api.baseUrl, pat.body.token) };
}

describe('the page', () => {
  it('serves the page at / with its import map, modules and stylesheet, and nothing outside dist/ui', async () => {
    const page = await fetch(`${c.api.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="importmap">');
    for (const asset of [
      '/-/ui/app/main.js',
      '/-/ui/app/style.css',
      '/-/ui/vendor/preact.mjs',
      '/-/ui/vendor/htm.mjs',
    ]) {
      const res = await fetch(`${c.api.baseUrl}${asset}`);
      expect(res.status, asset).toBe(200);
    }
    expect((await fetch(`${c.api.baseUrl}/-/ui/app/%2e%2e/%2e%2e/package.json`)).status).toBe(404);
    expect((await fetch(`${c.api.baseUrl}/-/ui/vendor/fs.mjs`)).status).toBe(404);
  });
});

describe('sessions', () => {
  it('sets an HttpOnly, SameSite=Strict cookie and refuses a wrong token with a clear message', async () => {
    const s = await signIn(c.api.token);
    expect(s.setCookie).toMatch(/HttpOnly/);
    expect(s.setCookie).toMatch(/SameSite=Strict/);
    expect(s.setCookie).not.toMatch(/Secure/); // plain HTTP on loopback; behind TLS it is Secure
    const wrong = await fetch(`${c.api.baseUrl}/-/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'glpat-not-a-real-token-at-all' }),
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/unknown, revoked or expired/);
  });

  it('authenticates REST reads with the cookie and requires the CSRF token for changes', async () => {
    const s = await signIn(c.api.token);
    expect((await withCookie(s, 'GET', '/api/v4/user')).status).toBe(200);
    expect((await withCookie(s, 'GET', '/-/session')).status).toBe(200);
    const project = await c.api.createProject('ui-csrf');
    const noCsrf = await withCookie(s, 'POST', `/api/v4/projects/${project.id}/pipeline?ref=main`);
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.text()).toMatch(/X-CSRF-Token/);
    const badCsrf = await withCookie(s, 'POST', `/api/v4/projects/${project.id}/pipeline?ref=main`, {
      'x-csrf-token': 'forged',
    });
    expect(badCsrf.status).toBe(403);
    const ok = await withCookie(
      s,
      'PUT',
      `/api/v4/projects/${project.id}`,
      { 'x-csrf-token': s.csrf },
      { description: 'set-from-ui' },
    );
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(((await ok.json()) as { description: string }).description).toBe('set-from-ui');
  });

  it('signs out, and a tampered cookie is not a session', async () => {
    const s = await signIn(c.api.token);
    const tampered = { ...s, cookie: s.cookie.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')) };
    expect((await withCookie(tampered, 'GET', '/api/v4/user')).status).toBe(401);
    expect((await withCookie(s, 'DELETE', '/-/session')).status).toBe(403);
    const out = await withCookie(s, 'DELETE', '/-/session', { 'x-csrf-token': s.csrf });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
  });
});

describe('project visibility between users', () => {
  it("hides another user's private project from lists, pages and the log stream, and shows internal ones", async () => {
    const alice = await newUser('alice');
    const priv = await c.api.createProject('root-private');
    const internal = await c.api.post('/projects', { name: 'root-internal', visibility: 'internal' });
    expect(internal.status).toBe(201);
    const own = await alice.api.post('/projects', { name: 'alice-own' });
    expect(own.status, own.text).toBe(201);

    const listed = (await alice.api.get('/projects?per_page=100')).body.map((p: any) => p.id);
    expect(listed).not.toContain(priv.id);
    expect(listed).toContain(internal.body.id);
    expect(listed).toContain(own.body.id);
    expect((await alice.api.get(`/projects/${priv.id}`)).status).toBe(404);
    expect((await alice.api.get(`/projects/${priv.id}/pipelines`)).status).toBe(404);
    expect((await alice.api.get(`/projects/${internal.body.id}/pipelines`)).status).toBe(200);

    const s = await signIn(alice.token);
    expect((await withCookie(s, 'GET', `/api/v4/projects/${priv.id}`)).status).toBe(404);
    // The admin still sees everything.
    const all = (await c.api.get('/projects?per_page=100')).body.map((p: any) => p.id);
    expect(all).toEqual(expect.arrayContaining([priv.id, own.body.id]));
  });

  it('creates users and tokens for admins only, with field errors', async () => {
    const bob = await newUser('bob');
    expect((await bob.api.post('/users', { username: 'eve', name: 'Eve' })).status).toBe(403);
    const dup = await c.api.post('/users', { username: 'bob', name: 'Bob again' });
    expect(dup.status).toBe(409);
    const bad = await c.api.post('/users', { username: 'no spaces', name: '' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.message)).toEqual(expect.arrayContaining(['username', 'name']));
    const badScope = await c.api.post(`/users/${bob.id}/personal_access_tokens`, {
      name: 'x',
      scopes: ['sudo-all'],
    });
    expect(badScope.status).toBe(400);
    expect(JSON.stringify(badScope.body.message)).toContain('sudo-all');
  });
});

describe('the job log stream', () => {
  it('streams a finished job from an offset or its tail, and ends', async () => {
    const project = await c.api.createProject('ui-stream');
    const runner = await c.api.createRunner({
      description: 'ui-stream',
      tag_list: 'uistream',
      run_untagged: false,
    });
    const commit = await c.api.post(`/projects/${project.id}/repository/files/.gitlab-ci.yml`, {
      branch: 'main',
      content: 'job:\n  tags: [uistream]\n  script: [echo hi]\n',
      commit_message: 'ci',
    });
    expect(commit.status, commit.text).toBe(201);
    await c.api.waitForPipeline(project.id);
    const claimed = await c.api.call('POST', '/jobs/request', { token: runner.token });
    expect(claimed.status, claimed.text).toBe(201);
    const log = 'héllo\n\u001b[32mgreen\u001b[0m\nsection_start:1:build\r\u001b[0Kstep\n';
    const bytes = Buffer.from(log);
    const patched = await c.api.call('PATCH', `/jobs/${claimed.body.id}/trace`, bytes, {
      'JOB-TOKEN': claimed.body.token,
      'content-type': 'text/plain',
      'content-range': `0-${bytes.length - 1}`,
    });
    expect(patched.status).toBe(202);
    const done = await c.api.call('PUT', `/jobs/${claimed.body.id}`, {
      token: claimed.body.token,
      state: 'success',
    });
    expect(done.status, done.text).toBe(200);

    const stream = await fetch(
      `${c.api.baseUrl}/api/v4/projects/${project.id}/jobs/${claimed.body.id}/trace/stream`,
      {
        headers: { 'PRIVATE-TOKEN': c.api.token },
      },
    );
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await stream.text();
    const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({
      name: m[1],
      data: JSON.parse(m[2]!),
    }));
    expect(events[0]).toEqual({ name: 'start', data: { offset: 0, size: bytes.length } });
    expect(
      events
        .filter((e) => e.name === 'log')
        .map((e) => e.data.text)
        .join(''),
    ).toBe(log);
    expect(events.find((e) => e.name === 'status')?.data.status).toBe('success');
    expect(events.at(-1)).toEqual({ name: 'end', data: { size: bytes.length } });

    const tail = await (
      await fetch(
        `${c.api.baseUrl}/api/v4/projects/${project.id}/jobs/${claimed.body.id}/trace/stream?tail=4`,
        {
          headers: { 'PRIVATE-TOKEN': c.api.token },
        },
      )
    ).text();
    expect(tail).toContain(`"offset":${bytes.length - 4}`);
    const bad = await fetch(
      `${c.api.baseUrl}/api/v4/projects/${project.id}/jobs/${claimed.body.id}/trace/stream?offset=-1`,
      {
        headers: { 'PRIVATE-TOKEN': c.api.token },
      },
    );
    expect(bad.status).toBe(400);
  });
});
