/**
 * An end-to-end fleet: a real coordinator process and real runner processes over loopback, plus
 * helpers to push a pipeline and wait for it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import type { TestApi } from '../../harness/api-client.js';
import { commitFiles, createWorkRepo, pushTo } from '../../harness/git-repo.js';
import {
  startCoordinatorProcess,
  startRunnerProcess,
  type CoordinatorProcess,
  type FlotillaProcess,
  type RunnerConfigOptions,
} from './processes.js';
import { tempDir } from '../../harness/temp-dir.js';

export interface FleetRunner {
  proc: FlotillaProcess;
  configPath: string;
  options: RunnerConfigOptions;
  id: number;
}

export class Fleet {
  readonly runners: FleetRunner[] = [];
  #counter = 0;

  private constructor(
    readonly dir: string,
    readonly coordinator: CoordinatorProcess,
    readonly remove: () => Promise<void>,
  ) {}

  static async start(coordinatorArgs: string[] = []): Promise<Fleet> {
    const tmp = await tempDir('flotilla-e2e-');
    const coordinator = await startCoordinatorProcess(path.join(tmp.dir, 'coordinator'), coordinatorArgs);
    return new Fleet(tmp.dir, coordinator, tmp.remove);
  }

  get api(): TestApi {
    return this.coordinator.api;
  }

  /** Creates a runner on the coordinator and starts a runner process for it. */
  async addRunner(
    opts: {
      tags?: string[];
      concurrent?: number;
      extraRunner?: string;
      extraGlobal?: string;
      url?: string;
      executor?: string;
      /** Extra environment of the runner process (e.g. FLOTILLA_PROVIDER_PLUGINS). */
      env?: NodeJS.ProcessEnv;
    } = {},
  ): Promise<FleetRunner> {
    const n = this.runners.length;
    const created = await this.api.createRunner({
      description: `e2e-${n}`,
      ...(opts.tags ? { tag_list: opts.tags.join(','), run_untagged: false } : {}),
    });
    const dir = path.join(this.dir, `runner-${n}`);
    await mkdir(dir, { recursive: true });
    const options: RunnerConfigOptions = {
      url: opts.url ?? this.coordinator.url,
      token: created.token,
      buildsDir: path.join(dir, 'builds'),
      concurrent: opts.concurrent ?? 4,
      name: `e2e-${n}`,
      ...(opts.extraRunner ? { extraRunner: opts.extraRunner } : {}),
      ...(opts.extraGlobal ? { extraGlobal: opts.extraGlobal } : {}),
      ...(opts.executor ? { executor: opts.executor } : {}),
    };
    const configPath = path.join(dir, 'config.toml');
    const proc = await startRunnerProcess(configPath, options, opts.env);
    await proc.waitFor(/runner manager started/);
    const runner = { proc, configPath, options, id: created.id };
    this.runners.push(runner);
    return runner;
  }

  /** Creates a project with these files and pushes them; returns the project and its pipeline. */
  async pushPipeline(
    files: Record<string, string>,
  ): Promise<{ projectId: number; pipelineId: number; workDir: string; projectPath: string }> {
    const name = `p${++this.#counter}-${Date.now().toString(36)}`;
    const project = await this.api.createProject(name);
    const workDir = path.join(this.dir, 'work', name);
    await createWorkRepo(workDir, files);
    await pushTo(workDir, this.coordinator.url, project.path_with_namespace, this.api.token);
    const pipeline = await this.api.waitForPipeline(project.id);
    return {
      projectId: project.id,
      pipelineId: pipeline.id,
      workDir,
      projectPath: project.path_with_namespace,
    };
  }

  async pushMore(workDir: string, projectPath: string, files: Record<string, string>): Promise<string> {
    const sha = await commitFiles(workDir, files, 'more');
    await pushTo(workDir, this.coordinator.url, projectPath, this.api.token);
    return sha;
  }

  async jobByName(projectId: number, pipelineId: number, name: string): Promise<any> {
    const job = (await this.api.jobs(projectId, pipelineId)).find((j) => j.name === name);
    if (!job) throw new Error(`no job ${name} in pipeline ${pipelineId}`);
    return job;
  }

  async waitForJob(projectId: number, pipelineId: number, name: string, statuses: string[]): Promise<any> {
    return this.api.until(
      async () => {
        const job = (await this.api.jobs(projectId, pipelineId)).find((j) => j.name === name);
        return job && statuses.includes(job.status) ? job : undefined;
      },
      `job ${name} to be ${statuses.join('/')}`,
      1800,
    );
  }

  async trace(projectId: number, jobId: number): Promise<string> {
    return (await this.api.get(`/projects/${projectId}/jobs/${jobId}/trace`)).text;
  }

  /** Diagnostics for a failing test: the last lines of every process's output. */
  output(): string {
    return [
      `--- coordinator ---\n${this.coordinator.proc.output.slice(-3000)}`,
      ...this.runners.map((r, i) => `--- runner ${i} ---\n${r.proc.output.slice(-3000)}`),
    ].join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.proc.stop()));
    await this.coordinator.proc.stop();
    await this.remove();
  }
}
