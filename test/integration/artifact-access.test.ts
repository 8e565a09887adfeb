/**
 * `artifacts:access` / `public` and `cache:unprotect` as a runner and a REST user see them: a job
 * with `access: none` keeps its archive (and its entry list and files) from REST downloads while
 * the jobs that depend on it still get it with their job token; `unprotect: true` shares the unprotected cache on a protected ref.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildZip } from '../kits/shared/zip-builder.js';
import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

const PIPELINE = `
stages: [build, use]
secret:
  stage: build
  script: [echo secret]
  artifacts: {paths: [a], access: none}
  cache: [{key: deps, paths: [d]}, {key: shared, paths: [s], unprotect: true}]
open:
  stage: build
  script: [echo open]
  artifacts: {paths: [a], public: true}
use:
  stage: use
  script: [echo use]
  needs: [secret, open]
`;

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };
let projectId = 0;
let runnerToken = '';

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
  work = await tempDir();
  runnerToken = (await c.api.createRunner({ description: 'artifact-access' })).token;
  const project = await c.api.createProject('artifact-access');
  projectId = project.id;
  await createWorkRepo(work.dir, { '.gitlab-ci.yml': PIPELINE });
  await pushTo(work.dir, c.running.url, project.path_with_namespace, c.running.rootToken);
});

afterAll(async () => {
  await c?.stop();
  await work?.remove();
});

async function take(): Promise<any> {
  const res = await c.api.until(async () => {
    const r = await c.api.post('/jobs/request', { token: runnerToken, info: { name: 'it' } });
    return r.status === 201 ? r : undefined;
  }, 'a job to be handed out');
  return res.body;
}

async function uploadAndFinish(job: any): Promise<void> {
  const form = new FormData();
  const zip = await buildZip([{ name: 'a', data: `archive of ${job.job_info.name}` }]);
  form.append('file', new Blob([zip]), 'artifacts.zip');
  const url = `${c.running.url}/api/v4/jobs/${job.id}/artifacts?artifact_type=archive&artifact_format=zip`;
  const res = await fetch(url, { method: 'POST', headers: { 'JOB-TOKEN': job.token }, body: form });
  expect(res.status).toBe(201);
  const put = await c.api.call('PUT', `/jobs/${job.id}`, { token: job.token, state: 'success' });
  expect(put.status).toBe(200);
}

describe('artifacts:access and cache:unprotect', () => {
  it('refuses REST downloads of access: none archives; dependent jobs still fetch them', async () => {
    const built = [await take(), await take()];
    const byName = new Map(built.map((j) => [j.job_info.name, j]));
    const secret = byName.get('secret');
    const open = byName.get('open');
    expect(secret.cache.map((k: any) => k.key)).toEqual(['deps-protected', 'shared-non_protected']);
    for (const j of built) await uploadAndFinish(j);

    const denied = await c.api.get(`/projects/${projectId}/jobs/${secret.id}/artifacts`);
    expect(denied.status).toBe(403);
    expect(denied.text).toContain('artifacts:access: none');
    const allowed = await c.api.get(`/projects/${projectId}/jobs/${open.id}/artifacts`);
    expect(allowed.status).toBe(200);
    const entries = await c.api.get(`/projects/${projectId}/jobs/${open.id}/artifacts_entries`);
    expect(entries.body).toEqual({
      entries: [{ path: 'a', size: 'archive of open'.length, directory: false, symlink: false }],
      truncated: false,
    });
    const file = await c.api.get(`/projects/${projectId}/jobs/${open.id}/artifacts/a`);
    expect([file.status, file.text]).toEqual([200, 'archive of open']);
    expect((await c.api.get(`/projects/${projectId}/jobs/${open.id}/artifacts/nope`)).status).toBe(404);
    expect((await c.api.get(`/projects/${projectId}/jobs/${secret.id}/artifacts/a`)).status).toBe(403);
    expect((await c.api.get(`/projects/${projectId}/jobs/${secret.id}/artifacts_entries`)).status).toBe(403);

    const use = await take();
    expect(use.job_info.name).toBe('use');
    expect(use.dependencies.map((d: any) => d.name).sort()).toEqual(['open', 'secret']);
    const viaJobToken = await fetch(`${c.running.url}/api/v4/jobs/${secret.id}/artifacts`, {
      headers: { 'JOB-TOKEN': use.token },
    });
    expect(viaJobToken.status).toBe(200);
    expect(Buffer.from(await viaJobToken.arrayBuffer()).toString('latin1')).toContain('archive of secret');
  });
});
