/**
 * The coordinator's disk fills up (a small tmpfs holds its data dir): writes are refused with
 * 507 FLO_ERR_DISK_FULL (nothing half-done: no project left behind, no trace bytes stored), reads
 * and readiness keep working, and once space is freed the same requests succeed without a restart
 * and the log is whole. Needs root (it mounts the tmpfs); it fails, never skips, without it.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

let mountDir: { dir: string; remove: () => Promise<void> };
let work: { dir: string; remove: () => Promise<void> };
let c: TestCoordinator | undefined;
let mounted = false;
const filler = (): string => path.join(mountDir.dir, 'filler');

beforeAll(async () => {
  mountDir = await tempDir('flotilla-diskfull-');
  work = await tempDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'flotilla-diskfull', mountDir.dir]);
  mounted = true;
  const dataDir = path.join(mountDir.dir, 'data');
  await mkdir(dataDir);
  c = await startTestCoordinator({ longPollSeconds: 1 }, dataDir);
});

afterAll(async () => {
  await c?.stop();
  if (mounted) execFileSync('umount', [mountDir.dir]);
  await mountDir?.remove();
  await work?.remove();
});

async function fillDisk(): Promise<void> {
  const chunk = Buffer.alloc(1024 * 1024);
  await writeFile(filler(), '');
  for (let i = 0; i < 64; i++) {
    try {
      await writeFile(filler(), chunk, { flag: 'a' });
    } catch {
      break;
    }
  }
  for (let i = 0; i < 1024; i++) {
    try {
      await writeFile(filler(), Buffer.alloc(1024), { flag: 'a' });
    } catch {
      return;
    }
  }
}

describe('coordinator disk full', () => {
  it('refuses writes with 507 FLO_ERR_DISK_FULL, keeps reads, and recovers when space is freed', async () => {
    const api = c!.api;
    const runner = await api.createRunner({ description: 'diskfull' });
    const project = await api.createProject('diskfull');
    await createWorkRepo(work.dir, { '.gitlab-ci.yml': 'build:\n  script: [echo]\n' });
    await pushTo(work.dir, c!.running.url, project.path_with_namespace, c!.running.rootToken);
    const claimed = await api.until(async () => {
      const r = await api.post('/jobs/request', { token: runner.token, info: { name: 'it' } });
      return r.status === 201 ? r.body : undefined;
    }, 'a job');
    const patch = (start: number, body: Buffer) =>
      api.call('PATCH', `/jobs/${claimed.id}/trace`, body, {
        'JOB-TOKEN': claimed.token,
        'content-type': 'text/plain',
        'content-range': `${start}-${start + body.length - 1}`,
      });
    expect((await patch(0, Buffer.from('before\n'))).status).toBe(202);

    await fillDisk();
    const refused = await api.post('/projects', { name: 'during' });
    expect(refused.status).toBe(507);
    expect(refused.body).toMatchObject({ code: 'FLO_ERR_DISK_FULL' });
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const big = await patch(7, chunk);
    expect(big.status).toBe(507);
    expect((await fetch(`${c!.running.url}/-/ready`)).status).toBe(200);
    expect((await api.get(`/projects/${project.id}`)).status).toBe(200);

    await rm(filler());
    expect((await api.post('/projects', { name: 'after' })).status).toBe(201);
    expect((await patch(7, chunk)).status).toBe(202);
    const trace = await api.get(`/projects/${project.id}/jobs/${claimed.id}/trace`);
    expect(trace.text).toBe('before\n' + chunk.toString());
    const names = (await api.get('/projects')).body.map((p: { name: string }) => p.name);
    expect(names.sort()).toEqual(['after', 'diskfull']);
  });
});
