/**
 * The helper program, run inside the helper image as `node /opt/flotilla/bin/flotilla-helper.js
 * <command>`: it does the job's predefined stages from inside the job's environment with the job
 * token, so on a remote engine the job's data never passes through the runner manager.
 * - `get-sources`, `cache-extractor`, `cache-archiver`, `artifacts-downloader`, `artifacts-uploader`
 *   read a `HelperRequest` (JSON) on standard input; the exit code is the stage's.
 * - `wait-for-service HOST PORT SECONDS` waits for a service's port.
 * - `forward LISTEN_HOST TARGET_HOST TARGET_PORT SECONDS` forwards a job network's gateway to the
 *   coordinator (on the engine's host network).
 * - `idle` keeps the helper container running between stages.
 * Each command loads only its own modules (dynamic imports): the artifacts and cache modules take
 * longer to load than Node takes to start, and `get-sources` needs neither.
 */
import { mkdir } from 'node:fs/promises';

import {
  HELPER_COMMANDS,
  type HelperCommand,
  type HelperRequest,
} from '../executors/docker/helper-request.js';
import type { JobOutput } from '../executors/executor.js';
import { errorMessage } from '../shared/errors.js';

const output: JobOutput = { write: (chunk) => void process.stdout.write(chunk) };

async function readRequest(): Promise<HelperRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as HelperRequest;
}

function abortOnTermination(): AbortSignal {
  const controller = new AbortController();
  const stop = (): void => controller.abort(new Error('the helper was stopped'));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return controller.signal;
}

async function runStage(command: HelperCommand, request: HelperRequest): Promise<number> {
  await mkdir(request.tmpDir, { recursive: true, mode: 0o700 });
  const artifacts = {
    payload: request.payload,
    baseUrl: request.baseUrl,
    projectDir: request.projectDir,
    tmpDir: request.tmpDir,
    output,
  };
  switch (command) {
    case 'get-sources': {
      const [{ coordinatorUnreachable }, { getSources }] = await Promise.all([
        import('./coordinator-probe.js'),
        import('../executors/shell/git-sources.js'),
      ]);
      const unreachable = await coordinatorUnreachable(request);
      if (unreachable !== null) {
        output.write(unreachable);
        return 1;
      }
      return getSources({
        projectDir: request.projectDir,
        gitInfo: request.payload.git_info,
        variables: request.variables,
        output,
        signal: abortOnTermination(),
      });
    }
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

function idle(): Promise<number> {
  return new Promise((resolve) => {
    const timer = setInterval(() => undefined, 1 << 30);
    const stop = (): void => {
      clearInterval(timer);
      resolve(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'wait-for-service')
    return (await import('./wait-for-service.js')).waitForService(args, output);
  if (command === 'forward') return (await import('./forward.js')).forward(args, output);
  if (command === 'idle') return idle();
  if (!HELPER_COMMANDS.includes(command as HelperCommand)) {
    process.stderr.write(
      `usage: flotilla-helper <${[...HELPER_COMMANDS, 'wait-for-service', 'forward', 'idle'].join('|')}>\n`,
    );
    return 2;
  }
  return runStage(command as HelperCommand, await readRequest());
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`\x1b[31;1mERROR: ${errorMessage(err)}\x1b[0;m\n`);
    process.exitCode = 1;
  },
);
