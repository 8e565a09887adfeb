/**
 * The coordinator's Runner API v4 over real HTTP: job requests with long polling and tags,
 * status updates and Job-Status, trace appends with Content-Range and 416, auth and size errors.
 */
import { PassThrough } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

const PIPELINE = `
stages: [build, test]
build:
  stage: build
  script: [echo build]
tagged:
  stage: build
  tags: [gpu]
  script: [echo gpu]
test:
  stage: test
  script: [echo test]
`;

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };

async function runnerCall(
  path: string,
  body: unknown,
  method = 'POST',
  headers: Record<string, string> = {},
) {
  return c.api.call(method, path, body, headers);
}

async function requestJob(token: string, lastUpdate?: string) {
  return runnerCall('/jobs/request', {
    token,
    ...(lastUpdate ? { last_update: lastUpdate } : {}),
    info: { name: 'test' },
  });
}

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 20 });
  work = await tempDir();
});

afterAll(async () => {
  await c.stop();
  await work.remove();
});

describe('Runner API', () => {
  let projectId = 0;
  let untagged = { id: 0, token: '' };
  let gpu = { id: 0, token: '' };
  let claimed = { id: 0, token: '' };
  let gpuClaimed = { id: 0, token: '' };

  it('verifies runner tokens and refuses unknown ones with 403 JSON', async () => {
    untagged = await c.api.createRunner({ description: 'plain' });
    gpu = await c.api.createRunner({ description: 'gpu', tag_list: 'gpu' });
    expect(untagged.token).toMatch(/^glrt-/);
    const ok = await runnerCall('/runners/verify', { token: untagged.token });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: untagged.id, token: untagged.token });
    const bad = await runnerCall('/runners/verify', { token: 'glrt-nope' });
    expect(bad.status).toBe(403);
    expect(bad.body).toMatchObject({ message: '403 Forbidden' });
  });

  it('answers 204 with X-GitLab-Last-Update when nothing is queued', async () => {
    const res = await requestJob(untagged.token);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-gitlab-last-update')).toBeTruthy();
  });

  it('wakes a held long poll when a matching job is queued, and matches tags', async () => {
    const first = await requestJob(untagged.token);
    const lastUpdate = first.headers.get('x-gitlab-last-update') ?? '';
    const held = requestJob(untagged.token, lastUpdate);
    const project = await c.api.createProject('runner-api');
    projectId = project.id;
    await createWorkRepo(work.dir, { '.gitlab-ci.yml': PIPELINE });
    await pushTo(work.dir, c.running.url, project.path_with_namespace, c.running.rootToken);
    const res = await held;
    expect(res.status).toBe(201);
    expect(res.body.job_info.name).toBe('build');
    expect(res.body.token).toMatch(/^glcbt-/);
    claimed = { id: res.body.id, token: res.body.token };
    expect(res.body.git_info.refspecs[0]).toMatch(/^\+refs\/pipelines\/\d+:refs\/pipelines\/\d+$/);
    expect(res.body.variables).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: 'CI_JOB_TOKEN', masked: true })]),
    );
    const gpuJob = await requestJob(gpu.token);
    expect(gpuJob.status).toBe(201);
    expect(gpuJob.body.job_info.name).toBe('tagged');
    gpuClaimed = { id: gpuJob.body.id, token: gpuJob.body.token };
    const none = await requestJob(untagged.token);
    expect(none.status).toBe(204);
  });

  it('appends trace chunks, answers 416 with Range on a gap and 400 on a bad Content-Range', async () => {
    const { id, token } = claimed;
    const patch = (range: string | undefined, body: string) =>
      c.api.call('PATCH', `/jobs/${id}/trace`, body, {
        'JOB-TOKEN': token,
        'content-type': 'text/plain',
        ...(range ? { 'content-range': range } : {}),
      });
    const first = await patch('0-4', 'hello');
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe('0-5');
    expect(first.headers.get('job-status')).toBe('running');
    expect(Number(first.headers.get('x-gitlab-trace-update-interval'))).toBeGreaterThan(0);
    // a Flotilla runner sends chunks up to this size from then on
    expect(first.headers.get('x-flotilla-trace-patch-limit')).toBe(String(4 * 1024 * 1024));
    const gap = await patch('10-12', 'abc');
    expect(gap.status).toBe(416);
    expect(gap.headers.get('range')).toBe('0-5');
    expect(gap.headers.get('x-flotilla-trace-patch-limit')).toBe(String(4 * 1024 * 1024));
    const resend = await patch('5-10', ' world');
    expect(resend.status).toBe(202);
    expect((await patch(undefined, 'x')).status).toBe(400);
    expect((await patch('a-b', 'x')).status).toBe(400);
    const trace = await c.api.get(`/projects/${projectId}/jobs/${id}/trace`);
    expect(trace.text).toBe('hello world');
  });

  it('stores a PATCH that arrives while the one before it is still arriving after that one', async () => {
    const { id, token } = gpuClaimed;
    // The first PATCH's body arrives in two parts; the coordinator is reading it once `read` is asked.
    let reading = (): void => undefined;
    const started = new Promise<void>((resolve) => (reading = resolve));
    const body = new PassThrough();
    const readBody = body.read.bind(body);
    body.read = (size?: number) => {
      reading();
      return readBody(size) as unknown;
    };
    body.write('01234');
    const first = c.running.coordinator.app.inject({
      method: 'PATCH',
      url: `/api/v4/jobs/${id}/trace`,
      headers: {
        'JOB-TOKEN': token,
        'content-type': 'text/plain',
        'content-range': '0-9',
        'content-length': '10',
      },
      payload: body,
    });
    await started;
    let secondDone = false;
    const second = c.api
      .call('PATCH', `/jobs/${id}/trace`, 'abcde', {
        'JOB-TOKEN': token,
        'content-type': 'text/plain',
        'content-range': '10-14',
      })
      .finally(() => (secondDone = true));
    // a gap with no PATCH before it in flight is refused at once, as before
    const gap = await c.api.call('PATCH', `/jobs/${id}/trace`, 'zz', {
      'JOB-TOKEN': token,
      'content-type': 'text/plain',
      'content-range': '20-21',
    });
    expect(gap.status).toBe(416);
    expect(gap.headers.get('range')).toBe('0-0');
    expect(secondDone).toBe(false);
    body.end('56789');
    expect((await first).statusCode).toBe(202);
    const answer = await second;
    expect(answer.status).toBe(202);
    expect(answer.headers.get('range')).toBe('0-15');
    expect(answer.headers.get('x-flotilla-trace-patches-in-flight')).toBe('2');
    const stored = await c.api.get(`/projects/${projectId}/jobs/${id}/trace`);
    expect(stored.text).toBe('0123456789abcde');
  });

  it('stores trace bodies as raw bytes whatever the Content-Type, and 400s a length unlike the range', async () => {
    const { id, token } = claimed;
    const patch = (range: string, body: string | Buffer, type?: string) =>
      c.api.call('PATCH', `/jobs/${id}/trace`, body, {
        'JOB-TOKEN': token,
        'content-range': range,
        ...(type ? { 'content-type': type } : {}),
      });
    const form = await patch('11-15', 'a=b&c', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(202);
    expect(form.headers.get('range')).toBe('0-16');
    expect((await patch('16-22', '{"x":1}', 'application/json')).status).toBe(202);
    expect((await patch('23-23', '{', 'application/json')).status).toBe(202);
    expect((await patch('24-25', Buffer.from([0xff, 0x0a]))).status).toBe(202);
    const short = await patch('26-30', 'ab', 'text/plain');
    expect(short.status).toBe(400);
    expect(short.body).toMatchObject({ code: 'FLO_ERR_BAD_REQUEST' });
    expect(short.body.message).toContain('Content-Range 26-30 announces 5 bytes but the body has 2');
    expect((await patch('26-26', 'ab', 'text/plain')).status).toBe(400);
    const res = await fetch(`${c.running.url}/api/v4/projects/${projectId}/jobs/${id}/trace`, {
      headers: { 'PRIVATE-TOKEN': c.running.rootToken },
    });
    const stored = Buffer.from(await res.arrayBuffer());
    expect(stored).toEqual(
      Buffer.concat([Buffer.from('hello worlda=b&c{"x":1}{'), Buffer.from([0xff, 0x0a])]),
    );
  });

  it('takes a 4 MiB trace body, refuses a larger one with 413, and wrong job tokens with 403', async () => {
    const limit = 4 * 1024 * 1024;
    const largest = await c.api.call('PATCH', `/jobs/${claimed.id}/trace`, 'y'.repeat(limit), {
      'JOB-TOKEN': claimed.token,
      'content-type': 'text/plain',
      // the log holds the 26 bytes of the tests above
      'content-range': `26-${26 + limit - 1}`,
    });
    expect(largest.status).toBe(202);
    expect(largest.headers.get('range')).toBe(`0-${26 + limit}`);
    const big = 'x'.repeat(limit + 1);
    const res = await c.api.call('PATCH', `/jobs/${claimed.id}/trace`, big, {
      'JOB-TOKEN': claimed.token,
      'content-type': 'text/plain',
      'content-range': `${26 + limit}-${26 + limit + big.length - 1}`,
    });
    expect(res.status).toBe(413);
    const forbidden = await c.api.call('PUT', `/jobs/${claimed.id}`, {
      token: 'glcbt-wrong',
      state: 'running',
    });
    expect(forbidden.status).toBe(403);
  });

  it('tells a runner to cancel with Job-Status: canceling, and ends the job canceled', async () => {
    const cancel = await c.api.post(`/projects/${projectId}/jobs/${claimed.id}/cancel`);
    expect(cancel.status).toBe(201);
    expect(cancel.body.status).toBe('canceling');
    const keepAlive = await c.api.call('PUT', `/jobs/${claimed.id}`, {
      token: claimed.token,
      state: 'running',
    });
    expect(keepAlive.status).toBe(200);
    expect(keepAlive.headers.get('job-status')).toBe('canceling');
    const done = await c.api.call('PUT', `/jobs/${claimed.id}`, {
      token: claimed.token,
      state: 'failed',
      failure_reason: 'script_failure',
    });
    expect(done.status).toBe(200);
    const job = (await c.api.get(`/projects/${projectId}/jobs/${claimed.id}`)).body;
    expect(job.status).toBe('canceled');
    const after = await c.api.call('PUT', `/jobs/${claimed.id}`, { token: claimed.token, state: 'running' });
    expect(after.status).toBe(403);
    expect(after.headers.get('job-status')).toBe('canceled');
  });

  it('hands each job out once when many requests claim at once, and answers updates meanwhile', async () => {
    const burst = await c.api.createRunner({ description: 'burst', tag_list: 'burst' });
    const project = await c.api.createProject('runner-api-burst');
    // The push's answer may come before its pipeline is created (git answers from its own
    // process): the first request is a long poll held from before the push, as a runner's is.
    const idle = await requestJob(burst.token);
    const held = requestJob(burst.token, idle.headers.get('x-gitlab-last-update') ?? '');
    const burstWork = await tempDir();
    try {
      await createWorkRepo(burstWork.dir, {
        '.gitlab-ci.yml': 'job:\n  tags: [burst]\n  parallel: 12\n  script: [echo hi]\n',
      });
      await pushTo(burstWork.dir, c.running.url, project.path_with_namespace, c.running.rootToken);
    } finally {
      await burstWork.remove();
    }
    const first = await held;
    expect(first.status).toBe(201);
    // Claims of the other requests wait in the claim gate while this job's update is answered.
    const requests = Array.from({ length: 30 }, () => requestJob(burst.token));
    const update = await c.api.call('PUT', `/jobs/${first.body.id}`, {
      token: first.body.token,
      state: 'success',
    });
    expect(update.status).toBe(200);
    const answers = await Promise.all(requests);
    const jobs = answers.filter((a) => a.status === 201).map((a) => a.body.id as number);
    expect(answers.every((a) => a.status === 201 || a.status === 204)).toBe(true);
    expect(jobs).toHaveLength(11);
    expect(new Set([first.body.id, ...jobs]).size).toBe(12);
  });

  it('gives paused runners nothing', async () => {
    const paused = await c.api.createRunner({ description: 'paused', paused: true });
    const res = await requestJob(paused.token);
    expect(res.status).toBe(204);
  });
});

describe('REST API errors', () => {
  it('answers 401 JSON without a token and 404 JSON for unknown routes', async () => {
    const res = await fetch(`${c.running.url}/api/v4/projects`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: '401 Unauthorized' });
    expect((await c.api.get('/nope')).status).toBe(404);
  });

  it('rejects a duplicate project with GitLab field errors', async () => {
    await c.api.createProject('dup');
    const res = await c.api.post('/projects', { name: 'dup' });
    expect(res.status).toBe(400);
    expect(res.body.message.path).toEqual(['has already been taken']);
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await c.api.call('POST', '/projects', '{"name":', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
  });

  it('paginates with GitLab headers', async () => {
    const res = await c.api.get('/projects?per_page=1&page=1');
    expect(res.headers.get('x-per-page')).toBe('1');
    expect(Number(res.headers.get('x-total'))).toBeGreaterThanOrEqual(2);
    expect(res.headers.get('x-next-page')).toBe('2');
    expect(res.headers.get('link')).toContain('rel="next"');
  });
});
