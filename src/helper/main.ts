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
 */
import { mkdir } from 'node:fs/promises';

import { downloadDependencies, uploadArtifacts } from '../executors/artifacts/stages.js';
import { archiveCaches, extractCaches } from '../executors/cache/stages.js';
import {
  HELPER_COMMANDS,
  type HelperCommand,
  type HelperRequest,
} from '../executors/docker/helper-request.js';
import type { JobOutput } from '../executors/executor.js';
import { getSources } from '../executors/shell/git-sources.js';
import { errorMessage } from '../shared/errors.js';
import { coordinatorUnreachable } from './coordinator-probe.js';
import { forward } from './forward.js';
import { waitForService } from './wait-for-service.js';

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
      return extractCaches(request, output);
    case 'cache-archiver':
      return archiveCaches(request, output);
    case 'artifacts-downloader':
      return downloadDependencies(artifacts);
    case 'artifacts-uploader':
      return uploadArtifacts(artifacts, request.outcome);
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
  if (command === 'wait-for-service') return waitForService(args, output);
  if (command === 'forward') return forward(args, output);
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
