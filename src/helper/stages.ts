/**
 * The predefined stages the helper program runs for the docker executor, each loading only its own
 * modules (dynamic imports): the artifacts and cache modules take longer to load than Node takes to
 * start, and `get-sources` needs neither. Used by the one-shot commands (main.ts) and by `serve`.
 */
import { mkdir } from 'node:fs/promises';

import type { HelperCommand, HelperRequest } from '../executors/docker/helper-request.js';
import type { JobOutput } from '../executors/executor.js';
import type { getSources as GetSources } from '../executors/shell/git-sources.js';
import type { coordinatorUnreachable as CoordinatorUnreachable } from './coordinator-probe.js';

/** Loads get-sources' modules (a `serve` process does it ahead of its first request). */
export async function loadSourceModules(): Promise<{
  coordinatorUnreachable: typeof CoordinatorUnreachable;
  getSources: typeof GetSources;
}> {
  const [probe, sources] = await Promise.all([
    import('./coordinator-probe.js'),
    import('../executors/shell/git-sources.js'),
  ]);
  return { coordinatorUnreachable: probe.coordinatorUnreachable, getSources: sources.getSources };
}

/** What a long-lived helper made ahead for its stages. */
export interface Prepared {
  /** An empty repository to copy instead of a `git init` (git-sources.ts). */
  emptyRepository?: Promise<string | null>;
}

/** Loads get-sources' modules and makes the empty repository its new repositories copy. */
export function prepareSources(dir: string): Prepared {
  const emptyRepository = import('../executors/shell/git-sources.js')
    .then((m) => m.prepareEmptyRepository(dir))
    .catch(() => null);
  void loadSourceModules().catch(() => undefined);
  return { emptyRepository };
}

async function getSources(
  request: HelperRequest,
  output: JobOutput,
  signal: AbortSignal,
  prepared: Prepared,
): Promise<number> {
  const { coordinatorUnreachable, getSources: run } = await loadSourceModules();
  const unreachable = await coordinatorUnreachable(request);
  if (unreachable !== null) {
    output.write(unreachable);
    return 1;
  }
  return run({
    projectDir: request.projectDir,
    gitInfo: request.payload.git_info,
    variables: request.variables,
    output,
    signal,
    disposable: true,
    ...(prepared.emptyRepository ? { emptyRepository: prepared.emptyRepository } : {}),
  });
}

/** Runs one stage; resolves with its exit code. */
export async function runStage(
  command: HelperCommand,
  request: HelperRequest,
  output: JobOutput,
  signal: AbortSignal,
  prepared: Prepared = {},
): Promise<number> {
  await mkdir(request.tmpDir, { recursive: true, mode: 0o700 });
  const artifacts = {
    payload: request.payload,
    baseUrl: request.baseUrl,
    projectDir: request.projectDir,
    tmpDir: request.tmpDir,
    output,
  };
  switch (command) {
    case 'get-sources':
      return getSources(request, output, signal, prepared);
    case 'cache-extractor':
      return (await import('../executors/cache/stages.js')).extractCaches(request, output);
    case 'cache-archiver':
      return (await import('../executors/cache/stages.js')).archiveCaches(request, output);
    case 'artifacts-downloader':
      return (await import('../executors/artifacts/stages.js')).downloadDependencies(artifacts);
    case 'artifacts-uploader':
      return (await import('../executors/artifacts/stages.js')).uploadArtifacts(artifacts, request.outcome);
  }
}
