/**
 * The helper program, run inside the helper image as `node /opt/flotilla/bin/flotilla-helper.js
 * <command>`: it does the job's predefined stages from inside the job's environment with the job
 * token, so on a remote engine the job's data never passes through the runner manager.
 * - `get-sources`, `cache-extractor`, `cache-archiver`, `artifacts-downloader`, `artifacts-uploader`
 *   read a `HelperRequest` (JSON) on standard input; the exit code is the stage's.
 * - `wait-for-service HOST PORT SECONDS` waits for a service's port.
 * - `forward LISTEN_HOST TARGET_HOST TARGET_PORT SECONDS` forwards a job network's gateway to the
 *   coordinator (on the engine's host network).
 * - `serve` keeps the helper container running and runs those stages on requests over its standard
 *   streams (serve.ts): the docker executor's way, with no `docker exec` nor Node start per stage.
 * - `idle` keeps the helper container running between stages (run by `docker exec`).
 * Each command loads only its own modules (stages.ts).
 */
import {
  HELPER_COMMANDS,
  type HelperCommand,
  type HelperRequest,
} from '../executors/docker/helper-request.js';
import type { JobOutput } from '../executors/executor.js';
import { errorMessage } from '../shared/errors.js';
import { runStage } from './stages.js';

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
  if (command === 'serve') {
    const write = (frame: Buffer): void => void process.stdout.write(frame);
    return (await import('./serve.js')).serve({ input: process.stdin, write }, abortOnTermination());
  }
  if (!HELPER_COMMANDS.includes(command as HelperCommand)) {
    process.stderr.write(
      `usage: flotilla-helper <${[...HELPER_COMMANDS, 'wait-for-service', 'forward', 'idle', 'serve'].join('|')}>\n`,
    );
    return 2;
  }
  return runStage(command as HelperCommand, await readRequest(), output, abortOnTermination());
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
