/**
 * The Store contract for what the REST API removes or edits: users listing, project edit and
 * delete, pipeline delete, job erase, and jobs by runner. Run by every adapter next to
 * `describeStoreConformance`, with the same kind of factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { claimOf, matchOf, newJob, newPipeline, newRunner } from './conformance.js';
import type { ProjectRecord, Store } from '../../../../src/coordinator/store/store.js';

export function describeRemovalConformance(name: string, factory: () => Promise<Store>): void {
  describe(`Store conformance (edit and removal): ${name}`, () => {
    let store: Store;
    let seq = 0;

    beforeEach(async () => {
      store = await factory();
      await store.ensureRootUser();
    });
    afterEach(async () => {
      await (store as Store | undefined)?.close();
    });

    async function project(path = `r${(seq += 1)}`): Promise<ProjectRecord> {
      return store.createProject({
        name: path,
        path,
        namespacePath: 'root',
        description: null,
        defaultBranch: 'main',
        visibility: 'private',
        ciConfigPath: null,
        protectedBranches: ['main'],
        creatorId: 1,
      });
    }

    it('lists users with username and search filters', async () => {
      const all = await store.listUsers({}, { page: 1, perPage: 20 });
      expect(all).toMatchObject({ total: 1, items: [{ id: 1, username: 'root', admin: true }] });
      expect((await store.listUsers({ username: 'root' }, { page: 1, perPage: 20 })).total).toBe(1);
      expect((await store.listUsers({ username: 'ROOT' }, { page: 1, perPage: 20 })).total).toBe(0);
      expect((await store.listUsers({ search: 'ADMIN' }, { page: 1, perPage: 20 })).items[0]?.id).toBe(1);
      expect((await store.listUsers({ search: 'nobody' }, { page: 1, perPage: 20 })).items).toEqual([]);
    });

    it('updates a project and leaves unnamed fields alone', async () => {
      const p = await project();
      const updated = await store.updateProject(p.id, { description: 'new', ciConfigPath: 'ci/x.yml' });
      expect(updated).toMatchObject({ id: p.id, description: 'new', ciConfigPath: 'ci/x.yml', path: p.path });
      expect(await store.updateProject(p.id, {})).toEqual(updated);
      expect(await store.updateProject(p.id, { description: null })).toMatchObject({ description: null });
      expect(await store.updateProject(9999, { name: 'x' })).toBeNull();
    });

    it('deletes a project with its pipelines, jobs, logs, artifacts and variables', async () => {
      const p = await project();
      const other = await project();
      const { pipeline, jobs } = await store.createPipeline(newPipeline(p.id), [newJob('a'), newJob('b')]);
      const kept = await store.createPipeline(newPipeline(other.id), [newJob('c')]);
      const job = jobs[0]!;
      await store.appendTrace(job.id, 0, Buffer.from('log'));
      await store.addArtifact(artifact(job.id));
      await store.createVariable(variable(p.id));
      expect(await store.deleteProject(p.id)).toBe(true);
      expect(await store.getProject(p.id)).toBeNull();
      expect(await store.getPipeline(pipeline.id)).toBeNull();
      expect(await store.getJob(job.id)).toBeNull();
      expect(await store.listArtifacts(job.id)).toEqual([]);
      expect((await store.readTrace(job.id)).length).toBe(0);
      expect(await store.listVariables(p.id)).toEqual([]);
      expect(await store.getPipeline(kept.pipeline.id)).not.toBeNull();
      expect(await store.deleteProject(p.id)).toBe(false);
    });

    it('deletes a pipeline with its jobs; the project and other pipelines stay', async () => {
      const p = await project();
      const first = await store.createPipeline(newPipeline(p.id), [newJob('a')]);
      const second = await store.createPipeline(newPipeline(p.id), [newJob('b')]);
      const job = first.jobs[0]!;
      await store.appendTrace(job.id, 0, Buffer.from('log'));
      await store.addArtifact(artifact(job.id));
      expect(await store.deletePipeline(first.pipeline.id)).toBe(true);
      expect(await store.getPipeline(first.pipeline.id)).toBeNull();
      expect(await store.getJob(job.id)).toBeNull();
      expect(await store.listArtifacts(job.id)).toEqual([]);
      expect(await store.getPipeline(second.pipeline.id)).not.toBeNull();
      expect(await store.getProject(p.id)).not.toBeNull();
      expect(await store.deletePipeline(first.pipeline.id)).toBe(false);
    });

    it('erases a job: log and artifact records go, erasedAt is set, the rest stays', async () => {
      const p = await project();
      const { jobs } = await store.createPipeline(newPipeline(p.id), [newJob('a', { status: 'success' })]);
      const job = jobs[0]!;
      await store.appendTrace(job.id, 0, Buffer.from('secret log'));
      const stored = await store.addArtifact(artifact(job.id));
      const at = new Date('2024-06-01T00:00:00.000Z');
      const erased = await store.eraseJob(job.id, at);
      expect(erased?.artifacts).toEqual([stored]);
      expect(erased?.job).toMatchObject({ id: job.id, status: 'success', traceSize: 0, erasedAt: at });
      expect((await store.readTrace(job.id)).length).toBe(0);
      expect(await store.listArtifacts(job.id)).toEqual([]);
      expect((await store.getJob(job.id))?.erasedAt).toEqual(at);
      expect(await store.appendTrace(job.id, 0, Buffer.from('x'))).toEqual({ ok: true, size: 1 });
      expect(await store.eraseJob(9999, at)).toBeNull();
    });

    it('lists the jobs a runner took, newest first when asked', async () => {
      const p = await project();
      const runner = await store.createRunner(newRunner('rh1'));
      const other = await store.createRunner(newRunner('rh2'));
      await store.createPipeline(newPipeline(p.id), [
        newJob('a', { status: 'pending' }),
        newJob('b', { status: 'pending' }),
        newJob('c', { status: 'pending' }),
      ]);
      const a = await store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('t1'));
      const b = await store.claimPendingJob(matchOf({ runnerId: other.id }), claimOf('t2'));
      const c = await store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('t3'));
      const desc = await store.listJobs({ runnerId: runner.id, sort: 'desc' }, { page: 1, perPage: 10 });
      expect(desc.items.map((j) => j.id)).toEqual([c!.id, a!.id]);
      expect(desc.total).toBe(2);
      const asc = await store.listJobs({ runnerId: runner.id });
      expect(asc.items.map((j) => j.id)).toEqual([a!.id, c!.id]);
      expect((await store.listJobs({ runnerId: other.id })).items.map((j) => j.id)).toEqual([b!.id]);
    });
  });
}

function artifact(jobId: number) {
  return {
    jobId,
    fileType: 'archive',
    fileFormat: 'zip',
    filename: 'artifacts.zip',
    size: 3,
    storageKey: `${jobId}/archive-artifacts.zip`,
    expireAt: null,
  };
}

function variable(projectId: number) {
  return {
    projectId,
    key: 'K',
    value: 'v',
    variableType: 'env_var' as const,
    protected: false,
    masked: false,
    raw: false,
    environmentScope: '*',
    description: null,
  };
}
