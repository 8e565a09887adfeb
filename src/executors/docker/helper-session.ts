/**
 * The runner's end of a helper container's `serve` process (helper-protocol.ts): one attach to the
 * running container, then a request line on its stdin per predefined stage and that stage's frames
 * back on its stdout. When the container stops or is removed, the attach ends: a stage that is
 * running (or starts later) rejects with HelperStoppedError, a system failure like an exec into a
 * gone container, so EXECUTOR_JOB_SECTION_ATTEMPTS retries it on a fresh helper.
 */
import { Writable } from 'node:stream';

import type Docker from 'dockerode';

import { FlotillaError } from '../../shared/errors.js';
import type { JobOutput } from '../executor.js';
import { attachStdio } from './docker-client.js';
import { encodeRequest, FrameDecoder, type ServeRequest } from './helper-protocol.js';

/** The helper container stopped (or was removed) while a stage ran in it or before one started. */
export class HelperStoppedError extends FlotillaError {
  constructor(container: string, command: string) {
    super('FLO_ERR_HELPER_STOPPED', `the helper container ${container.slice(0, 12)} stopped (${command})`);
    this.name = 'HelperStoppedError';
  }
}

export interface HelperSession {
  readonly container: Docker.Container;
  /** False once the attach ended (the helper stopped or was removed). */
  readonly alive: boolean;
  /** Runs one stage in the helper; resolves with its exit code. One at a time. */
  run(request: ServeRequest, output: JobOutput): Promise<number>;
  /** Ends the attach (the container keeps running). */
  close(): void;
}

interface Pending {
  output: JobOutput;
  resolve(code: number): void;
  reject(err: Error): void;
}

/** Attaches to a running helper container started with the `serve` command. */
export async function attachHelper(container: Docker.Container): Promise<HelperSession> {
  const stream = await attachStdio(container);
  const decoder = new FrameDecoder();
  let pending: Pending | null = null;
  let current = '';
  let alive = true;
  const end = (): void => {
    alive = false;
    const p = pending;
    pending = null;
    p?.reject(new HelperStoppedError(container.id, current));
  };
  const frames = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        for (const frame of decoder.push(chunk)) {
          if (frame.type === 'output') pending?.output.write(frame.data);
          else {
            const p = pending;
            pending = null;
            p?.resolve(frame.code);
          }
        }
        callback();
      } catch (err) {
        pending?.reject(err as Error);
        pending = null;
        stream.destroy?.();
        callback();
      }
    },
  });
  // Anything on stderr is not a frame (Node's own warnings, a crash): the running stage's log.
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending?.output.write(chunk);
      callback();
    },
  });
  container.modem.demuxStream(stream, frames, stderr);
  stream.once('end', end);
  stream.once('close', end);
  stream.once('error', end);
  return {
    container,
    get alive() {
      return alive;
    },
    run(request, output) {
      if (pending) return Promise.reject(new Error('a helper stage is already running'));
      current = request.command;
      return new Promise<number>((resolve, reject) => {
        pending = { output, resolve, reject };
        if (alive) stream.write(encodeRequest(request));
        else end();
      });
    },
    close() {
      end();
      stream.destroy?.();
    },
  };
}
