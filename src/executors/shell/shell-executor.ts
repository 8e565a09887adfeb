/**
 * The shell executor: runs a job as processes on this host. Sources are checked out to
 * `<builds_dir>/<short-token>/<concurrent-id>/<project_full_path>`; file variables and scratch files
 * live in `<project dir>.tmp` (RUNNER_TEMP_PROJECT_DIR). Each script stage is one bash process in its
 * own process group.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

import type { JobVariable } from '../../api/runner-api.js';
import { downloadDependencies, uploadArtifacts, type ArtifactStageOptions } from '../artifacts/stages.js';
import { remoteCacheFor } from '../cache/remote-cache.js';
import { archiveCaches, extractCaches, type CacheRequest } from '../cache/stages.js';
import type {
  BuildStage,
  JobOutcome,
  Executor,
  ExecutorFactory,
  ExecutorJob,
  StageContext,
  StageResult,
} from '../executor.js';
import { stagesBeforeScript } from '../executor.js';
import { expandVariables } from '../variables.js';
import { buildBashScript } from './bash-script.js';
import { startChainedCheckout, type ChainedProcess } from './chained-process.js';
import { getSources, type CheckoutRunner } from './git-sources.js';
import type { Launcher } from './launcher.js';
import { runProcess } from './process.js';
import { SharedSourceStore, type LocalRepositoryFor } from './shared-sources.js';
import { inheritedEnv } from './inherited-env.js';
import { removeTmpDir, sweepRemovedTmpDirs } from './tmp-dir.js';

export const SHELL_FEATURES: Readonly<Record<string, boolean>> = Object.freeze({
  variables: true,
  artifacts: true,
  upload_multiple_artifacts: true,
  refspecs: true,
  masking: true,
  raw_variables: true,
  artifacts_exclude: true,
  multi_build_steps: true,
  return_exit_code: true,
  shared: true,
});

export interface ShellExecutorOptions {
  /** Time between SIGTERM and SIGKILL when a stage is stopped. */
  killGraceMs?: number;
  /**
   * Fetch each project once per sha into a store under the builds directory and give every job a
   * work tree that borrows its objects (git alternates): for runners whose builds directory is
   * throwaway, such as `flotilla run`'s. See shared-sources.ts.
   */
  sharedSources?: boolean;
  /** With `sharedSources`: where the coordinator's repository of a `repo_url` is on this host. */
  localRepositoryFor?: LocalRepositoryFor;
  /**
   * How artifacts travel: `compress: false` stores archive entries undeflated, for a coordinator
   * on this host whose storage is throwaway (`flotilla run`); `fetch` is the client of uploads
   * and downloads, `bufferUploads` builds each upload's body in memory (see ArtifactStageOptions).
   */
  artifacts?: { compress?: boolean; fetch?: typeof fetch; bufferUploads?: boolean };
  /**
   * What starts the script stages' processes (default: detached children of this process). A
   * zygote (zygote.ts) saves this process a fork per stage.
   */
  launcher?: Launcher;
}

function safeProjectPath(fullPath: string, projectId: number): string {
  const parts = fullPath.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
  return parts.length > 0 ? parts.join('/') : `project-${projectId}`;
}

export function projectDirFor(job: ExecutorJob): string {
  const { runner, payload, concurrentId } = job;
  const path = safeProjectPath(payload.job_info.project_full_path, payload.job_info.project_id);
  return join(runner.buildsDir, runner.shortToken, String(concurrentId), path);
}

function executorVariables(job: ExecutorJob, projectDir: string): JobVariable[] {
  const plain = (key: string, value: string): JobVariable => ({ key, value, public: true, masked: false });
  return [
    plain('CI_BUILDS_DIR', job.runner.buildsDir),
    plain('CI_PROJECT_DIR', projectDir),
    plain('RUNNER_TEMP_PROJECT_DIR', `${projectDir}.tmp`),
    plain('CI_SHARED_ENVIRONMENT', 'true'),
  ];
}

type StoreFor = (job: ExecutorJob) => SharedSourceStore | undefined;

/** A job's places on this host: its checkout, its scratch folder and its expanded variables. */
interface ShellJobFiles {
  job: ExecutorJob;
  projectDir: string;
  tmpDir: string;
  variables: JobVariable[];
}

/** Puts the variables into `env`; a file variable is written to `tmpDir` and its value is the file's path. */
async function writeFileVariables(
  variables: readonly JobVariable[],
  tmpDir: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  for (const v of variables) {
    if (!v.file) {
      env[v.key] = v.value;
      continue;
    }
    const path = join(tmpDir, v.key);
    await writeFile(path, v.value, { mode: 0o600 });
    env[v.key] = path;
  }
}

function artifactOptions(
  f: ShellJobFiles,
  ctx: StageContext,
  transfer: ShellExecutorOptions['artifacts'] = {},
): ArtifactStageOptions {
  return {
    payload: f.job.payload,
    baseUrl: f.job.runner.url,
    projectDir: f.projectDir,
    tmpDir: f.tmpDir,
    output: ctx.output,
    ...(transfer.compress === false ? { compress: false } : {}),
    ...(transfer.fetch ? { fetch: transfer.fetch } : {}),
    ...(transfer.bufferUploads === true ? { bufferUploads: true } : {}),
  };
}

/** Local caches at `<cache_dir>/<project path>/<key>/cache.zip`, plus the distributed cache. */
async function cacheRequest(f: ShellJobFiles, outcome: JobOutcome): Promise<CacheRequest> {
  const { project_full_path, project_id } = f.job.payload.job_info;
  return {
    payload: f.job.payload,
    variables: f.variables,
    projectDir: f.projectDir,
    tmpDir: f.tmpDir,
    cacheDir: join(f.job.runner.cacheDir, safeProjectPath(project_full_path, project_id)),
    outcome,
    remoteCache: await remoteCacheFor(f.job),
  };
}

/**
 * Whether the checkout's process may wait to run the first script step: `step_script` comes right
 * after `get_sources`, or only `download_artifacts` comes between (this process extracts the
 * archives into the project folder while the bash waits in it; the script's bash is started by
 * `exec` only after, and reads its files then). With `restore_cache` between, two processes stay.
 */
function scriptFollowsSources(job: ExecutorJob): boolean {
  return stagesBeforeScript(job.payload).every((stage) => stage === 'download_artifacts');
}

/** Runs script steps as bash processes in the project folder, each from its own script file. */
function scriptRunner(f: ShellJobFiles, env: NodeJS.ProcessEnv, options: ShellExecutorOptions) {
  const { killGraceMs, launcher } = options;
  let scriptCounter = 0;
  // The checkout's process, waiting to run the first script step (see chained-process.ts).
  let chain: ChainedProcess | null = null;
  const firstStep = f.job.payload.steps.find((s) => s.name !== 'after_script');

  async function writeScript(commands: readonly string[]): Promise<string> {
    const file = join(f.tmpDir, `script-${++scriptCounter}.sh`);
    await writeFile(file, buildBashScript(commands), { mode: 0o700 });
    return file;
  }

  async function runScript(
    commands: readonly string[],
    ctx: StageContext,
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<number> {
    const file = await writeScript(commands);
    await mkdir(f.projectDir, { recursive: true });
    return runProcess({
      command: 'bash',
      args: ['--noprofile', '--norc', file],
      cwd: f.projectDir,
      env: { ...env, ...extraEnv },
      output: ctx.output,
      signal: ctx.signal,
      killGraceMs,
      ...(launcher ? { launcher } : {}),
    });
  }

  /** get_sources' checkout in the process that then runs the first script step, when it may. */
  const checkout: CheckoutRunner = async (request) => {
    dismiss();
    if (!firstStep || !scriptFollowsSources(f.job)) return null;
    const scriptFile = await writeScript(firstStep.script);
    const started = startChainedCheckout({
      ...request,
      scriptFile,
      cwd: f.projectDir,
      env: { ...env },
      gitEnv: request.env,
      ...(killGraceMs !== undefined ? { killGraceMs } : {}),
      ...(launcher ? { launcher } : {}),
    });
    if (!started) return null;
    chain = started;
    return started.first(request.output, request.signal);
  };

  function dismiss(): void {
    chain?.dismiss();
    chain = null;
  }

  /** The script steps in order, up to the first that fails. */
  async function steps(ctx: StageContext): Promise<number> {
    for (const step of f.job.payload.steps) {
      if (step.name === 'after_script') continue;
      const chained = step === firstStep ? chain : null;
      chain = null;
      const code = chained
        ? await chained.continue(ctx.output, ctx.signal)
        : await runScript(step.script, ctx);
      if (code !== 0) return code;
    }
    return 0;
  }

  /** `after_script`, which sees the job status in CI_JOB_STATUS. */
  async function after(ctx: StageContext): Promise<number> {
    dismiss();
    const step = f.job.payload.steps.find((s) => s.name === 'after_script');
    return step ? runScript(step.script, ctx, { CI_JOB_STATUS: ctx.jobStatus }) : 0;
  }

  return { steps, after, checkout, dismiss };
}

function createShellExecutor(job: ExecutorJob, options: ShellExecutorOptions, storeFor: StoreFor): Executor {
  const projectDir = projectDirFor(job);
  const tmpDir = `${projectDir}.tmp`;
  // the executor's paths win over anything the payload says about them
  const variables = expandVariables([...job.variables, ...executorVariables(job, projectDir)]);
  const env = inheritedEnv();
  const files: ShellJobFiles = { job, projectDir, tmpDir, variables };

  const scripts = scriptRunner(files, env, options);

  async function run(stage: Exclude<BuildStage, 'prepare_executor'>, ctx: StageContext): Promise<number> {
    switch (stage) {
      case 'prepare_script':
        ctx.output.write(`Running on ${hostname()}...\n`);
        return 0;
      case 'get_sources':
        return getSources({
          projectDir,
          gitInfo: job.payload.git_info,
          variables,
          output: ctx.output,
          signal: ctx.signal,
          shared: storeFor(job),
          checkout: scripts.checkout,
          ...(options.launcher ? { launcher: options.launcher } : {}),
        });
      case 'download_artifacts':
        return downloadDependencies(artifactOptions(files, ctx, options.artifacts));
      case 'step_script':
        return scripts.steps(ctx);
      case 'after_script':
        return scripts.after(ctx);
      case 'upload_artifacts_on_success':
        return uploadArtifacts(artifactOptions(files, ctx, options.artifacts), 'success');
      case 'upload_artifacts_on_failure':
        return uploadArtifacts(artifactOptions(files, ctx, options.artifacts), 'failed');
      case 'cleanup_file_variables':
        scripts.dismiss();
        await removeTmpDir(tmpDir);
        return 0;
      case 'restore_cache':
        return extractCaches(await cacheRequest(files, 'success'), ctx.output);
      case 'archive_cache':
        return archiveCaches(await cacheRequest(files, 'success'), ctx.output);
      case 'archive_cache_on_failure':
        return archiveCaches(await cacheRequest(files, 'failed'), ctx.output);
    }
  }

  return {
    async prepare(ctx) {
      ctx.output.write(`Using Shell (${job.runner.shell}) executor...\n`);
      await mkdir(tmpDir, { recursive: true, mode: 0o700 });
      void sweepRemovedTmpDirs(tmpDir);
      await writeFileVariables(variables, tmpDir, env);
    },
    async runStage(stage, ctx): Promise<StageResult> {
      return { exitCode: await run(stage, ctx) };
    },
    async cleanup() {
      scripts.dismiss();
      await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/** The factory the CLI registers for `executor = "shell"`. */
export function createShellExecutorFactory(options: ShellExecutorOptions = {}): ExecutorFactory {
  const stores = new Map<string, SharedSourceStore>();
  const storeFor: StoreFor = (job) => {
    if (!options.sharedSources) return undefined;
    const root = join(job.runner.buildsDir, job.runner.shortToken, 'shared-sources');
    let store = stores.get(root);
    if (!store) {
      store = new SharedSourceStore(root, options.localRepositoryFor);
      stores.set(root, store);
    }
    return store;
  };
  return {
    name: 'shell',
    shell: 'bash',
    features: SHELL_FEATURES,
    create: (job) => createShellExecutor(job, options, storeFor),
  } satisfies ExecutorFactory;
}
