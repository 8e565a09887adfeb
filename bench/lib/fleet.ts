/** A coordinator process (and runner processes) for the bench, on loopback or a bench network. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { TestApi } from '../../harness/api-client.js';
import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { benchDatabase, type BenchDatabase, type StoreKind } from './database.js';
import { flotillaProcess, type BenchProcess } from './proc.js';

export interface BenchCoordinator {
  proc: BenchProcess;
  url: string;
  api: TestApi;
  dir: string;
  stop(): Promise<void>;
}

export async function startBenchCoordinator(
  opts: {
    listen?: string;
    longPollSeconds?: number;
    prefix?: string;
    database?: BenchDatabase;
    /** Writes a V8 CPU profile of the coordinator into this folder when it stops (`--cpu-prof`). */
    cpuProfDir?: string;
    /** More Node options for the coordinator (the load part's `--trace-gc`). */
    nodeArgs?: string[];
  } = {},
): Promise<BenchCoordinator> {
  const dir = await mkdtemp(path.join(tmpdir(), opts.prefix ?? 'flotilla-bench-'));
  const dataDir = path.join(dir, 'coordinator');
  const dropDatabase = async (): Promise<void> =>
    opts.database
      ?.drop()
      .catch((err: unknown) => console.log(`  could not drop the bench schema: ${String(err)}`));
  const proc = flotillaProcess(
    [
      'coordinator',
      ...(opts.database?.url ? ['--database', opts.database.url] : []),
      '--listen',
      opts.listen ?? '127.0.0.1:0',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      '--long-poll-seconds',
      String(opts.longPollSeconds ?? 50),
    ],
    {},
    [
      ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []),
      ...(opts.nodeArgs ?? []),
    ],
  );
  try {
    const m = await proc.waitFor(/listening on (http:\/\/\S+)/);
    const url = m[1] ?? '';
    const token = (await readFile(path.join(dataDir, 'root-token'), 'utf8')).trim();
    return {
      proc,
      url,
      api: new TestApi(url, token),
      dir,
      stop: async () => {
        await proc.stop();
        await rm(dir, { recursive: true, force: true });
        await dropDatabase();
      },
    };
  } catch (err) {
    await proc.stop();
    await rm(dir, { recursive: true, force: true });
    await dropDatabase();
    throw err;
  }
}

/** Creates a project whose main branch holds these files; returns its id and path. */
export async function createProjectWith(
  coordinator: BenchCoordinator,
  name: string,
  files: Record<string, string>,
): Promise<{ id: number; path: string }> {
  const project = await coordinator.api.createProject(name);
  const work = path.join(coordinator.dir, 'work', name);
  await createWorkRepo(work, files);
  await pushTo(work, coordinator.url, project.path_with_namespace, coordinator.api.token);
  return { id: project.id, path: project.path_with_namespace };
}

export async function createPipeline(
  api: TestApi,
  projectId: number,
  ref = 'main',
): Promise<{ id: number; created_at: string; status: string }> {
  const res = await api.post<{ id: number; created_at: string; status: string }>(
    `/projects/${projectId}/pipeline`,
    { ref },
  );
  if (res.status !== 201) throw new Error(`pipeline create failed: ${res.status} ${res.text.slice(0, 300)}`);
  return res.body;
}

export interface RunnerTomlOptions {
  url: string;
  token: string;
  dir: string;
  executor?: string;
  concurrent?: number;
  listenAddress?: string;
  outputLimitKiB?: number;
  extraRunner?: string[];
  /** Writes a V8 CPU profile of the runner into this folder when it stops (`--cpu-prof`). */
  cpuProfDir?: string;
  /** More Node options and environment of the runner process. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Writes a runner config.toml and starts `flotilla runner run` on it. */
export async function startBenchRunner(o: RunnerTomlOptions): Promise<BenchProcess> {
  await mkdir(o.dir, { recursive: true });
  const configPath = path.join(o.dir, 'config.toml');
  const lines = [
    `concurrent = ${o.concurrent ?? 1}`,
    'check_interval = 1',
    'log_level = "info"',
    'log_format = "json"',
    'shutdown_timeout = 5',
    o.listenAddress ? `listen_address = "${o.listenAddress}"` : '',
    '',
    '[[runners]]',
    '  name = "bench"',
    `  url = "${o.url}"`,
    `  token = "${o.token}"`,
    `  executor = "${o.executor ?? 'shell'}"`,
    `  builds_dir = "${path.join(o.dir, 'builds')}"`,
    `  cache_dir = "${path.join(o.dir, 'cache')}"`,
    o.outputLimitKiB ? `  output_limit = ${o.outputLimitKiB}` : '',
    ...(o.extraRunner ?? []),
    '',
  ];
  await writeFile(configPath, lines.join('\n'));
  const proc = flotillaProcess(['runner', 'run', '--config', configPath], o.env ?? {}, [
    ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []),
    ...(o.nodeArgs ?? []),
  ]);
  await proc
    .waitFor(/runner manager started|"msg":"runner manager started"/, 30_000)
    .catch(async (err: unknown) => {
      await proc.stop();
      throw err;
    });
  return proc;
}

/** A pipeline of `parallel` no-op jobs; new pipelines on the branch do not cancel older ones. */
export function noopPipeline(parallel: number): string {
  return [
    'workflow:',
    '  auto_cancel:',
    '    on_new_commit: none',
    '',
    'noop:',
    `  parallel: ${parallel}`,
    '  script:',
    '    - "true"',
    '',
  ].join('\n');
}

/** A coordinator on one store with a project whose pipeline is `jobsPerPipeline` no-op jobs. */
export interface StoreTarget {
  kind: StoreKind;
  coordinator: BenchCoordinator;
  projectId: number;
}

/**
 * Starts the coordinator of one part on one store and creates its project; with `cpuProfDir`, the
 * coordinator writes its CPU profile to `<dir>/<part>-<store>`. The coordinator is stopped again if
 * the project cannot be created.
 */
export async function startStoreTarget(
  part: string,
  kind: StoreKind,
  jobsPerPipeline: number,
  cpuProfDir: string | undefined,
  nodeArgs: string[] = [],
): Promise<StoreTarget> {
  const coordinator = await startBenchCoordinator({
    prefix: `flotilla-bench-${part}-${kind}-`,
    database: benchDatabase(kind),
    nodeArgs,
    ...(cpuProfDir ? { cpuProfDir: `${cpuProfDir}/${part}-${kind}` } : {}),
  });
  try {
    const project = await createProjectWith(coordinator, part, {
      '.gitlab-ci.yml': noopPipeline(jobsPerPipeline),
    });
    return { kind, coordinator, projectId: project.id };
  } catch (err) {
    await coordinator.stop();
    throw err;
  }
}
