/**
 * `serve`: the helper container's long-lived process. It reads one request per line on standard
 * input and runs it as the one-shot command would, writing the stage's output and then its exit code
 * as frames on standard output (src/executors/docker/helper-protocol.ts). A stage thus costs no
 * `docker exec` and no Node start, and get-sources' modules are loaded before the first request.
 * Requests run one at a time, in order. SIGTERM/SIGINT stop the running stage's processes and exit.
 */
import { createInterface } from 'node:readline';

import { decodeRequest, encodeFrame, FRAME_EXIT, FRAME_OUTPUT } from '../executors/docker/helper-protocol.js';
import { HELPER_COMMANDS } from '../executors/docker/helper-request.js';
import type { JobOutput } from '../executors/executor.js';
import { errorMessage } from '../shared/errors.js';
import { prepareSources, runStage, type Prepared } from './stages.js';

export interface ServeStreams {
  input: NodeJS.ReadableStream;
  write(frame: Buffer): void;
  /** Where to make the empty repository that new repositories copy (in the container's own /tmp). */
  scratch?: string;
}

/** Runs the request of one line; never rejects (a failure is the stage's output and exit code 1). */
export async function serveLine(
  line: string,
  write: (frame: Buffer) => void,
  signal: AbortSignal,
  prepared: Prepared = {},
): Promise<void> {
  const output: JobOutput = {
    write: (chunk) =>
      write(encodeFrame(FRAME_OUTPUT, typeof chunk === 'string' ? chunk : Buffer.from(chunk))),
  };
  let code: number;
  try {
    const { command, request } = decodeRequest(line);
    if (!HELPER_COMMANDS.includes(command)) throw new Error(`unknown helper command "${String(command)}"`);
    code = await runStage(command, request, output, signal, prepared);
  } catch (err) {
    output.write(`\x1b[31;1mERROR: ${errorMessage(err)}\x1b[0;m\n`);
    code = 1;
  }
  write(encodeFrame(FRAME_EXIT, String(code)));
}

/** Serves requests until the input ends or the signal aborts; resolves with the exit code. */
export async function serve(streams: ServeStreams, signal: AbortSignal): Promise<number> {
  // Ahead of the first request (most likely get-sources): its modules and an empty repository.
  const prepared = prepareSources(streams.scratch ?? '/tmp/flotilla-empty-repository');
  const lines = createInterface({ input: streams.input, crlfDelay: Infinity });
  signal.addEventListener(
    'abort',
    () => {
      lines.close();
      // An open stdin would keep the process up after SIGTERM.
      (streams.input as { destroy?(): void }).destroy?.();
    },
    { once: true },
  );
  for await (const line of lines) {
    if (signal.aborted) break;
    if (line.trim() === '') continue;
    await serveLine(line, streams.write, signal, prepared);
  }
  await prepared.emptyRepository;
  return 0;
}
