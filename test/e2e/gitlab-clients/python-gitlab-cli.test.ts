/**
 * python-gitlab's CLI (Debian's gitlab-cli, `python-gitlab`), unmodified, against a real
 * coordinator and runner: it authenticates with GET /user at start, then each command's JSON
 * output is checked.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CLIENT_CI,
  PYTHON_GITLAB_CLI,
  requirePythonGitlab,
  startClientsFleet,
  type ClientsFleet,
} from './clients-fleet.js';

const exec = promisify(execFile);
let f: ClientsFleet;
let projectId = 0;

beforeAll(async () => {
  await requirePythonGitlab();
  f = await startClientsFleet();
});

afterAll(async () => {
  await f?.fleet.stop();
});

/** Runs the CLI with JSON output; returns stdout as text. */
async function cliText(...args: string[]): Promise<string> {
  const base = ['--server-url', f.fleet.coordinator.url, '--private-token', f.fleet.api.token, '-o', 'json'];
  try {
    const { stdout } = await exec(PYTHON_GITLAB_CLI, [...base, ...args], { timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`python-gitlab ${args.join(' ')} failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, {
      cause: err,
    });
  }
}

async function cli(...args: string[]): Promise<any> {
  const out = await cliText(...args);
  try {
    return JSON.parse(out);
  } catch {
    throw new Error(`python-gitlab ${args.join(' ')} did not print JSON: ${out}`);
  }
}

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up waiting for ${what}\n${f.fleet.output()}`);
}

/** Waits over plain HTTP (the waiting is not what is tested; each CLI start costs seconds). */
async function jobNamed(pipelineId: number, name: string, statuses: string[]): Promise<any> {
  return until(
    async () => {
      const jobs = await f.fleet.api.jobs(projectId, pipelineId);
      return jobs.find((j) => j.name === name && statuses.includes(j.status));
    },
    `job ${name} to be ${statuses.join('/')}`,
  );
}

async function pipelineIs(pipelineId: number, status: string): Promise<void> {
  await f.fleet.api.waitForPipelineStatus(projectId, pipelineId, [status]);
  const got = await cli(
    'project-pipeline',
    'get',
    '--project-id',
    String(projectId),
    '--id',
    String(pipelineId),
  );
  expect(got).toMatchObject({ id: pipelineId, status });
}

describe('python-gitlab CLI', () => {
  it('starts (GET /user) and shows users', async () => {
    expect(await cli('current-user', 'get')).toMatchObject({ id: 1, username: 'root', is_admin: true });
    expect((await cli('user', 'list')).map((u: any) => u.username)).toEqual(['root']);
    expect(await cli('user', 'get', '--id', '1')).toMatchObject({ name: 'Administrator', state: 'active' });
  });

  it('creates, shows, edits and lists projects', async () => {
    const created = await cli('project', 'create', '--name', 'cli-project');
    expect(created).toMatchObject({ name: 'cli-project', path_with_namespace: 'root/cli-project' });
    projectId = created.id;
    await cli('project', 'update', '--id', String(projectId), '--description', 'from the CLI');
    expect(await cli('project', 'get', '--id', String(projectId))).toMatchObject({
      description: 'from the CLI',
    });
    expect((await cli('project', 'list')).map((p: any) => p.id)).toContain(projectId);
    const doomed = await cli('project', 'create', '--name', 'cli-doomed');
    await cliText('project', 'delete', '--id', String(doomed.id));
    expect((await cli('project', 'list')).map((p: any) => p.id)).not.toContain(doomed.id);
  });

  it('writes and reads repository files, branches and commits', async () => {
    const p = String(projectId);
    const file = await cli(
      'project-file',
      'create',
      '--project-id',
      p,
      '--file-path',
      '.gitlab-ci.yml',
      '--branch',
      'main',
      '--content',
      CLIENT_CI,
      '--commit-message',
      'ci from the CLI',
    );
    expect(file).toMatchObject({ file_path: '.gitlab-ci.yml', branch: 'main' });
    const read = await cli(
      'project-file',
      'get',
      '--project-id',
      p,
      '--file-path',
      '.gitlab-ci.yml',
      '--ref',
      'main',
    );
    expect(Buffer.from(read.content, 'base64').toString()).toBe(CLIENT_CI);
    expect(
      await cli('project-branch', 'create', '--project-id', p, '--branch', 'topic', '--ref', 'main'),
    ).toMatchObject({ name: 'topic' });
    expect((await cli('project-branch', 'list', '--project-id', p)).map((b: any) => b.name).sort()).toEqual([
      'main',
      'topic',
    ]);
    await cliText('project-branch', 'delete', '--project-id', p, '--name', 'topic');
    const commits = await cli('project-commit', 'list', '--project-id', p);
    expect(commits[0]).toMatchObject({ title: 'ci from the CLI' });
    expect(await cli('project-commit', 'get', '--project-id', p, '--id', commits[0].id)).toMatchObject({
      id: commits[0].id,
    });
  });

  it('manages project variables', async () => {
    const p = String(projectId);
    expect(
      await cli(
        'project-variable',
        'create',
        '--project-id',
        p,
        '--key',
        'DEPLOY_TARGET',
        '--value',
        'production',
      ),
    ).toMatchObject({ key: 'DEPLOY_TARGET', value: 'production' });
    await cli('project-variable', 'update', '--project-id', p, '--key', 'DEPLOY_TARGET', '--value', 'cli');
    expect(await cli('project-variable', 'get', '--project-id', p, '--key', 'DEPLOY_TARGET')).toMatchObject({
      value: 'cli',
    });
    await cli('project-variable', 'create', '--project-id', p, '--key', 'TEMP', '--value', 'x');
    await cliText('project-variable', 'delete', '--project-id', p, '--key', 'TEMP');
    expect((await cli('project-variable', 'list', '--project-id', p)).map((v: any) => v.key)).toEqual([
      'DEPLOY_TARGET',
    ]);
  });

  it('runs a pipeline and drives its jobs: trace, artifacts, play, retry, erase, cancel, delete', async () => {
    const p = String(projectId);
    const pipeline = await cli('project-pipeline', 'create', '--project-id', p, '--ref', 'main');
    expect(pipeline).toMatchObject({ ref: 'main', source: 'api' });
    const id = String(pipeline.id);
    const build = await jobNamed(pipeline.id, 'build', ['success']);
    expect(await cliText('project-job', 'trace', '--project-id', p, '--id', String(build.id))).toContain(
      'building for cli',
    );
    const zip = await cliText('project-job', 'artifacts', '--project-id', p, '--id', String(build.id));
    expect(zip.startsWith('PK')).toBe(true);
    const deploy = await jobNamed(pipeline.id, 'deploy', ['manual']);
    await cliText('project-job', 'play', '--project-id', p, '--id', String(deploy.id));
    await jobNamed(pipeline.id, 'deploy', ['success']);
    await cliText('project-job', 'retry', '--project-id', p, '--id', String(build.id));
    const rebuilt = await jobNamed(pipeline.id, 'build', ['success']);
    expect(rebuilt.id).not.toBe(build.id);
    await cliText('project-job', 'erase', '--project-id', p, '--id', String(rebuilt.id));
    const erased = await cli('project-job', 'get', '--project-id', p, '--id', String(rebuilt.id));
    expect(erased.erased_at).not.toBeNull();
    await pipelineIs(pipeline.id, 'success');
    const listed = await cli('project-pipeline-job', 'list', '--project-id', p, '--pipeline-id', id);
    expect(listed.map((j: any) => `${j.name}:${j.status}`).sort()).toEqual([
      'build:success',
      'deploy:success',
    ]);
    await cliText('project-pipeline', 'delete', '--project-id', p, '--id', id);
    expect((await cli('project-pipeline', 'list', '--project-id', p)).map((x: any) => x.id)).not.toContain(
      pipeline.id,
    );
  });

  it('cancels and retries a pipeline', async () => {
    const p = String(projectId);
    await cli('project-variable', 'create', '--project-id', p, '--key', 'SLOW', '--value', '1');
    const pipeline = await cli('project-pipeline', 'create', '--project-id', p, '--ref', 'main');
    const slow = await jobNamed(pipeline.id, 'slow', ['running']);
    await cliText('project-job', 'cancel', '--project-id', p, '--id', String(slow.id));
    await jobNamed(pipeline.id, 'slow', ['canceled']);
    await pipelineIs(pipeline.id, 'canceled');
    await cliText('project-pipeline', 'retry', '--project-id', p, '--id', String(pipeline.id));
    const again = await jobNamed(pipeline.id, 'slow', ['running']);
    expect(again.id).not.toBe(slow.id);
    await cliText('project-pipeline', 'cancel', '--project-id', p, '--id', String(pipeline.id));
    await jobNamed(pipeline.id, 'slow', ['canceled']);
    await cliText('project-variable', 'delete', '--project-id', p, '--key', 'SLOW');
  });

  it('lists, shows and edits runners, project runners and runner jobs', async () => {
    const r = String(f.runner.id);
    expect((await cli('runner', 'list')).map((x: any) => x.id)).toContain(f.runner.id);
    expect(await cli('runner', 'get', '--id', r)).toMatchObject({ id: f.runner.id, status: 'online' });
    await cli('runner', 'update', '--id', r, '--description', 'edited-by-cli');
    expect(await cli('runner', 'get', '--id', r)).toMatchObject({ description: 'edited-by-cli' });
    expect(
      (await cli('project-runner', 'list', '--project-id', String(projectId))).map((x: any) => x.id),
    ).toContain(f.runner.id);
    const jobs = await cli('runner-job', 'list', '--runner-id', r);
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs[0]).toMatchObject({ project: { id: projectId } });
  });

  it('lints a configuration', async () => {
    const good = await cli(
      'project-ci-lint',
      'create',
      '--project-id',
      String(projectId),
      '--content',
      CLIENT_CI,
    );
    expect(good).toMatchObject({ valid: true, errors: [] });
    const bad = await cli(
      'project-ci-lint',
      'create',
      '--project-id',
      String(projectId),
      '--content',
      'job: {stage: nope, script: [x]}',
    );
    expect(bad.valid).toBe(false);
    expect(bad.errors.length).toBeGreaterThan(0);
  });
});
