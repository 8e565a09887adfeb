/**
 * @gitbeaker/rest, unmodified, against a real coordinator and runner: projects, repository,
 * variables, pipelines and jobs, runners, lint, users and metadata; each call's returned object
 * is checked.
 */
import { Gitlab } from '@gitbeaker/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLIENT_CI, startClientsFleet, type ClientsFleet } from './clients-fleet.js';

let f: ClientsFleet;
let api: InstanceType<typeof Gitlab>;
let projectId = 0;

beforeAll(async () => {
  f = await startClientsFleet();
  api = new Gitlab({ host: f.fleet.coordinator.url, token: f.fleet.api.token });
});

afterAll(async () => {
  await f?.fleet.stop();
});

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 900; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}\n${f.fleet.output()}`);
}

async function jobNamed(pipelineId: number, name: string, statuses: string[]) {
  return until(
    async () => {
      const jobs = await api.Jobs.all(projectId, { pipelineId, includeRetried: true });
      return jobs
        .filter((j) => j.name === name && statuses.includes(j.status))
        .sort((a, b) => b.id - a.id)[0];
    },
    `job ${name} to be ${statuses.join('/')}`,
  );
}

describe('@gitbeaker/rest', () => {
  it('users and metadata', async () => {
    expect(await api.Users.showCurrentUser()).toMatchObject({ id: 1, username: 'root', is_admin: true });
    expect((await api.Users.all({ username: 'root' })).map((u) => u.id)).toEqual([1]);
    expect(await api.Users.show(1)).toMatchObject({ username: 'root', name: 'Administrator' });
    const meta = await api.Metadata.show();
    expect(meta.version).toMatch(/-flotilla$/);
    expect(meta.kas).toMatchObject({ enabled: false });
  });

  it('projects: create, show by id and path, edit, list, remove', async () => {
    const project = await api.Projects.create({ name: 'beaker' });
    expect(project).toMatchObject({ path_with_namespace: 'root/beaker', default_branch: 'main' });
    projectId = project.id;
    expect((await api.Projects.show('root/beaker')).id).toBe(projectId);
    const edited = await api.Projects.edit(projectId, { description: 'by gitbeaker' });
    expect(edited.description).toBe('by gitbeaker');
    expect((await api.Projects.all()).map((p) => p.id)).toContain(projectId);
    const doomed = await api.Projects.create({ name: 'beaker-doomed' });
    await api.Projects.remove(doomed.id);
    await expect(api.Projects.show(doomed.id)).rejects.toThrow(/Not Found/);
  });

  it('repository: files, branches, commits', async () => {
    const file = await api.RepositoryFiles.create(projectId, '.gitlab-ci.yml', 'main', CLIENT_CI, 'ci');
    expect(file).toMatchObject({ file_path: '.gitlab-ci.yml', branch: 'main' });
    const shown = await api.RepositoryFiles.show(projectId, '.gitlab-ci.yml', 'main');
    expect(Buffer.from(shown.content, 'base64').toString()).toBe(CLIENT_CI);
    expect(await api.Branches.create(projectId, 'topic', 'main')).toMatchObject({ name: 'topic' });
    expect((await api.Branches.all(projectId)).map((b) => b.name).sort()).toEqual(['main', 'topic']);
    const commit = await api.Commits.create(projectId, 'topic', 'add notes', [
      { action: 'create', filePath: 'notes.txt', content: 'notes' },
    ]);
    expect(commit).toMatchObject({ title: 'add notes' });
    expect((await api.Commits.show(projectId, commit.id)).parent_ids).toHaveLength(1);
    expect((await api.Commits.all(projectId, { refName: 'topic' }))[0]?.id).toBe(commit.id);
    expect((await api.Branches.show(projectId, 'topic')).commit.id).toBe(commit.id);
    await api.Branches.remove(projectId, 'topic');
    expect((await api.Branches.all(projectId)).map((b) => b.name)).toEqual(['main']);
  });

  it('project variables CRUD', async () => {
    expect(
      await api.ProjectVariables.create(projectId, 'TOKEN', 'abcdefgh12', { masked: true }),
    ).toMatchObject({
      key: 'TOKEN',
      masked: true,
    });
    expect(await api.ProjectVariables.edit(projectId, 'TOKEN', 'zyxwvuts98')).toMatchObject({
      value: 'zyxwvuts98',
    });
    expect(await api.ProjectVariables.show(projectId, 'TOKEN')).toMatchObject({ value: 'zyxwvuts98' });
    expect((await api.ProjectVariables.all(projectId)).map((v) => v.key)).toEqual(['TOKEN']);
    await api.ProjectVariables.remove(projectId, 'TOKEN');
    expect(await api.ProjectVariables.all(projectId)).toEqual([]);
  });

  it('pipelines with variables; jobs: log, artifacts, play, retry, erase; remove', async () => {
    const pipeline = await api.Pipelines.create(projectId, 'main', {
      variables: [{ key: 'DEPLOY_TARGET', value: 'beaker' }],
    });
    expect(pipeline).toMatchObject({ ref: 'main', source: 'api' });
    expect(await api.Pipelines.allVariables(projectId, pipeline.id)).toEqual([
      { key: 'DEPLOY_TARGET', variable_type: 'env_var', value: 'beaker' },
    ]);
    const build = await jobNamed(pipeline.id, 'build', ['success']);
    expect(await api.Jobs.showLog(projectId, build.id)).toContain('building for beaker');
    const archive = await api.JobArtifacts.downloadArchive(projectId, { jobId: build.id });
    expect(
      Buffer.from(await archive.arrayBuffer())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
    const deploy = await jobNamed(pipeline.id, 'deploy', ['manual']);
    expect(await api.Jobs.play(projectId, deploy.id)).toMatchObject({ id: deploy.id, status: 'pending' });
    await jobNamed(pipeline.id, 'deploy', ['success']);
    const retried = await api.Jobs.retry(projectId, build.id);
    expect(retried).toMatchObject({ name: 'build' });
    expect(retried.id).not.toBe(build.id);
    const rebuilt = await until(async () => {
      const job = await api.Jobs.show(projectId, retried.id);
      return job.status === 'success' ? job : undefined;
    }, 'the retried build to succeed');
    const erased = await api.Jobs.erase(projectId, rebuilt.id);
    expect(erased.erased_at).not.toBeNull();
    expect(await api.Jobs.showLog(projectId, rebuilt.id)).toBe('');
    await until(async () => {
      const p = await api.Pipelines.show(projectId, pipeline.id);
      return p.status === 'success' ? p : undefined;
    }, 'the pipeline to succeed');
    await api.Pipelines.remove(projectId, pipeline.id);
    await expect(api.Pipelines.show(projectId, pipeline.id)).rejects.toThrow(/Not found/i);
  });

  it('cancel and retry a pipeline and a job', async () => {
    const pipeline = await api.Pipelines.create(projectId, 'main', {
      variables: [{ key: 'SLOW', value: '1' }],
    });
    const slow = await jobNamed(pipeline.id, 'slow', ['running']);
    expect(await api.Jobs.cancel(projectId, slow.id)).toMatchObject({ status: 'canceling' });
    await until(async () => {
      const p = await api.Pipelines.show(projectId, pipeline.id);
      return p.status === 'canceled' ? p : undefined;
    }, 'pipeline canceled');
    expect(await api.Pipelines.retry(projectId, pipeline.id)).toMatchObject({ id: pipeline.id });
    const again = await jobNamed(pipeline.id, 'slow', ['running']);
    expect(again.id).not.toBe(slow.id);
    expect(await api.Pipelines.cancel(projectId, pipeline.id)).toMatchObject({ id: pipeline.id });
    await jobNamed(pipeline.id, 'slow', ['canceled']);
  });

  it('runners: list, project runners, show, edit, runner jobs', async () => {
    expect((await api.Runners.all()).map((r) => r.id)).toContain(f.runner.id);
    expect((await api.Runners.all({ projectId })).map((r) => r.id)).toContain(f.runner.id);
    expect(await api.Runners.show(f.runner.id)).toMatchObject({ id: f.runner.id, status: 'online' });
    expect(await api.Runners.edit(f.runner.id, { description: 'edited-by-gitbeaker' })).toMatchObject({
      description: 'edited-by-gitbeaker',
    });
    const jobs = await api.Runners.allJobs(f.runner.id);
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs[0]).toMatchObject({ project: { id: projectId } });
  });

  it('lint', async () => {
    expect(await api.Lint.lint(projectId, CLIENT_CI)).toMatchObject({ valid: true, errors: [] });
    const bad = await api.Lint.lint(projectId, 'job: {stage: nope, script: [x]}');
    expect(bad.valid).toBe(false);
    expect(await api.Lint.check(projectId, { ref: 'main' })).toMatchObject({ valid: true });
  });
});
