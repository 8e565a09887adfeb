/**
 * Hostile artifacts archives over the Runner API: a zip with `..` entries, absolute paths, symlinks
 * pointing outside or repeated names is refused at upload (400 FLO_ERR_ARTIFACT_UNSAFE naming the
 * entry) and nothing is stored, so no dependent job ever receives it; a safe archive still goes in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildZip, type TestZipEntry } from '../kits/shared/zip-builder.js';
import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

const PIPELINE = `
build:
  script: [echo build]
  artifacts: {paths: [out]}
`;

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };
let projectId = 0;
let job: { id: number; token: string } = { id: 0, token: '' };

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
  work = await tempDir();
  const runnerToken = (await c.api.createRunner({ description: 'hostile-artifacts' })).token;
  const project = await c.api.createProject('hostile-artifacts');
  projectId = project.id;
  await createWorkRepo(work.dir, { '.gitlab-ci.yml': PIPELINE });
  await pushTo(work.dir, c.running.url, project.path_with_namespace, c.running.rootToken);
  const res = await c.api.until(async () => {
    const r = await c.api.post('/jobs/request', { token: runnerToken, info: { name: 'it' } });
    return r.status === 201 ? r : undefined;
  }, 'a job to be handed out');
  job = { id: res.body.id, token: res.body.token };
});

afterAll(async () => {
  await c?.stop();
  await work?.remove();
});

async function upload(entries: TestZipEntry[]): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('file', new Blob([await buildZip(entries)]), 'artifacts.zip');
  const url = `${c.running.url}/api/v4/jobs/${job.id}/artifacts?artifact_type=archive&artifact_format=zip`;
  const res = await fetch(url, { method: 'POST', headers: { 'JOB-TOKEN': job.token }, body: form });
  return { status: res.status, body: await res.json() };
}

describe('hostile artifacts uploads', () => {
  it.each([
    [[{ name: 'out/ok' }, { name: '../../etc/evil' }], 'entry "../../etc/evil" has a ".." segment'],
    [[{ name: '/root/.ssh/authorized_keys' }], 'entry "/root/.ssh/authorized_keys" has an absolute path'],
    [[{ name: 'out/ln', symlink: '/etc/shadow' }], 'entry "out/ln" is a symlink to the absolute path'],
    [[{ name: 'out/ln', symlink: '../../..' }], 'entry "out/ln" is a symlink to "../../.." outside'],
    [[{ name: 'out/a' }, { name: 'out/a' }], 'entry "out/a" appears twice'],
  ])('refuses %j with 400 FLO_ERR_ARTIFACT_UNSAFE and stores nothing', async (entries, reason) => {
    const res = await upload(entries);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'FLO_ERR_ARTIFACT_UNSAFE' });
    expect(res.body.message).toContain(reason);
    const stored = await c.api.get(`/projects/${projectId}/jobs/${job.id}/artifacts`);
    expect(stored.status).toBe(404);
    const view = await c.api.get(`/projects/${projectId}/jobs/${job.id}`);
    expect(view.body.artifacts_file ?? null).toBeNull();
  });

  it('refuses bytes that are not a zip with 400, and keeps a safe archive', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('not a zip')]), 'artifacts.zip');
    const url = `${c.running.url}/api/v4/jobs/${job.id}/artifacts?artifact_type=archive&artifact_format=zip`;
    const bad = await fetch(url, { method: 'POST', headers: { 'JOB-TOKEN': job.token }, body: form });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'FLO_ERR_BAD_REQUEST' });
    const ok = await upload([
      { name: 'out/a', data: 'A' },
      { name: 'out/ln', symlink: 'a' },
    ]);
    expect(ok.status).toBe(201);
    const stored = await c.api.get(`/projects/${projectId}/jobs/${job.id}/artifacts`);
    expect(stored.status).toBe(200);
  });
});
