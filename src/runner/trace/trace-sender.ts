/**
 * Sends a job's trace incrementally and its final state, as gitlab-runner does: every update
 * interval (3 s, replaced by the server's X-GitLab-Trace-Update-Interval, capped at 15 min) PATCH the
 * unsent bytes in chunks of at most 1 MiB; 202 advances, 416 realigns to the server's size and
 * resends; a keep-alive `PUT state=running` goes out when nothing at all was sent for one update
 * interval (gitlab-runner waits 30 s; asking sooner is how a quiet job learns of a cancel within
 * seconds, and the coordinator sets the interval, so it controls the cost). A job that prints
 * fast does not wait for the interval: once a full chunk is unsent, the sender streams (one PATCH
 * in flight, the next as soon as it is answered), so the upload overlaps the job instead of
 * starting when it ends; a failed streaming PATCH falls back to the interval. The remote job
 * state seen in any answer drives cancellation: `canceling` → cancel, `canceled`/`failed`/403 → abort.
 * `finish()` flushes everything, then PUTs the final state with the trace checksum and size,
 * resending on 202 (and errors) up to 10 times with backoff.
 */
import { TRACE_PATCH_LIMIT, type RemoteJobStatus, type UpdateJobRequest } from '../../api/runner-api.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { CoordinatorClient, RemoteState } from '../coordinator-client.js';
import type { JobTrace } from './job-trace.js';

export const DEFAULT_UPDATE_INTERVAL_MS = 3000;
export const MAX_UPDATE_INTERVAL_MS = 15 * 60 * 1000;
export const FORCE_SEND_INTERVAL_MS = 30_000;
export const FINAL_UPDATE_RETRY_LIMIT = 10;

export type RemoteVerdict = 'cancel' | 'abort';

export interface TraceSenderOptions {
  client: CoordinatorClient;
  jobId: number;
  jobToken: string;
  trace: JobTrace;
  clock: Clock;
  logger: Logger;
  /** Called when the coordinator asks to cancel (graceful) or abort (hard) the job. */
  onRemoteVerdict(verdict: RemoteVerdict): void;
  /** Maximum wait between final-update retries (tests shorten it). */
  maxBackoffMs?: number;
}

export interface FinalState {
  state: 'success' | 'failed';
  failure_reason?: string;
  exit_code?: number;
}

export interface TraceSender {
  /** Starts the periodic sending loop (runs until `finish` or `stop`). */
  start(): void;
  /** Sends all unsent bytes now; resolves true when everything was accepted. */
  flush(): Promise<boolean>;
  /** Flushes and sends the final state; resolves with the last PUT status (0 = never answered). */
  finish(final: FinalState): Promise<number>;
  /** Stops the loop without a final update (the job was dropped remotely). */
  stop(): void;
  /** Bytes the coordinator has accepted. */
  readonly sent: number;
}

export function verdictOf(status: number, jobStatus: RemoteJobStatus | undefined): RemoteVerdict | null {
  if (status === 403 || status === 404 || jobStatus === 'canceled' || jobStatus === 'failed') return 'abort';
  if (jobStatus === 'canceling') return 'cancel';
  return null;
}

function traceOutput(trace: JobTrace): NonNullable<UpdateJobRequest['output']> {
  return { checksum: trace.checksum(), bytesize: trace.size };
}

/**
 * PUTs the final state with the trace's checksum and size; resends on 202 (after the interval the
 * coordinator asks for) and on errors (with backoff), up to FINAL_UPDATE_RETRY_LIMIT times.
 */
async function sendFinalUpdate(options: TraceSenderOptions, final: FinalState): Promise<number> {
  const { client, jobId, jobToken, trace, clock, logger } = options;
  const maxBackoff = options.maxBackoffMs ?? 60 * 60 * 1000;
  let backoff = 1000;
  let status = 0;
  for (let attempt = 1; attempt <= FINAL_UPDATE_RETRY_LIMIT; attempt++) {
    const state = await client.updateJob(jobId, jobToken, {
      ...final,
      output: traceOutput(trace),
      checksum: trace.checksum(),
    });
    status = state.status;
    if (status === 200 || status === 403 || status === 404 || status === 409 || status === 400) return status;
    const accepted = Math.min(
      (state.updateInterval ?? DEFAULT_UPDATE_INTERVAL_MS / 1000) * 1000,
      MAX_UPDATE_INTERVAL_MS,
    );
    logger.debug({ jobId, status, attempt }, 'final job update not accepted yet; retrying');
    await clock.sleep(status === 202 ? accepted : Math.min(backoff, maxBackoff));
    backoff = Math.min(backoff * 2, maxBackoff);
  }
  logger.error({ jobId, status }, 'final job update failed');
  return status;
}

/** Full chunks go out as soon as they are written; off after a failed PATCH until one succeeds. */
function streamingGate() {
  let streaming = true;
  let draining = false;
  return {
    /** Starts a drain (`flush`) unless streaming is off or a drain is running already. */
    drain(flush: () => Promise<boolean>): void {
      if (!streaming || draining) return;
      draining = true;
      void flush().then(
        (ok) => {
          draining = false;
          streaming = ok;
        },
        () => {
          draining = false;
          streaming = false;
        },
      );
    },
    /** After a flush of the interval loop: streaming again when it succeeded, off when it failed. */
    resume(ok: boolean): void {
      streaming = ok;
    },
  };
}

/** Runs `tick` after each interval (read anew every time) until `signal` aborts. */
async function everyInterval(
  clock: Clock,
  signal: AbortSignal,
  intervalMs: () => number,
  tick: () => Promise<void>,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await clock.sleep(intervalMs(), signal);
    } catch {
      return;
    }
    await tick();
  }
}

export function createTraceSender(options: TraceSenderOptions): TraceSender {
  const { client, jobId, jobToken, trace, clock, logger } = options;
  const loopController = new AbortController();
  let intervalMs = DEFAULT_UPDATE_INTERVAL_MS;
  let sent = 0;
  /** Last time anything (PATCH with data, or PUT) reached the coordinator. */
  let lastContactAt = clock.monotonic();
  let loop: Promise<void> | undefined;
  let sending: Promise<boolean> = Promise.resolve(true);
  /** The coordinator no longer knows the job (403/404): stop resending. */
  let gone = false;
  const streaming = streamingGate();
  let unsubscribe: (() => void) | undefined;

  function observe(state: RemoteState): void {
    if (state.updateInterval !== undefined)
      intervalMs = Math.min(state.updateInterval * 1000, MAX_UPDATE_INTERVAL_MS);
    if (state.status === 403 || state.status === 404) gone = true;
    const verdict = verdictOf(state.status, state.jobStatus);
    if (verdict) options.onRemoteVerdict(verdict);
  }

  /** One read buffer for every PATCH body: PATCHes go one at a time (`sending` chains them). */
  let scratch: Buffer | undefined;

  async function sendPending(): Promise<boolean> {
    while (sent < trace.size && !gone) {
      scratch ??= Buffer.allocUnsafe(TRACE_PATCH_LIMIT);
      const chunk = trace.slice(sent, Math.min(trace.size, sent + TRACE_PATCH_LIMIT), scratch);
      const result = await client.patchTrace(jobId, jobToken, sent, chunk);
      observe(result);
      if (result.status === 202) {
        sent = Math.min(trace.size, result.rangeSize ?? sent + chunk.length);
        lastContactAt = clock.monotonic();
      } else if (result.status === 416 && result.rangeSize !== null) {
        logger.warn({ jobId, sent, serverSize: result.rangeSize }, 'trace offset realigned');
        sent = Math.min(trace.size, result.rangeSize);
      } else return false;
    }
    return !gone;
  }

  function flush(): Promise<boolean> {
    sending = sending.then(sendPending, sendPending);
    return sending;
  }

  /** After each append: a full unsent chunk starts a drain unless one is running already. */
  function onGrow(): void {
    if (!gone && trace.size - sent >= TRACE_PATCH_LIMIT) streaming.drain(flush);
  }

  async function keepAlive(): Promise<void> {
    if (clock.monotonic() - lastContactAt < Math.min(FORCE_SEND_INTERVAL_MS, intervalMs)) return;
    lastContactAt = clock.monotonic();
    observe(await client.updateJob(jobId, jobToken, { state: 'running', output: traceOutput(trace) }));
  }

  /** Each update interval: send what is unsent, then a keep-alive when that worked. */
  async function tick(): Promise<void> {
    const ok = await flush();
    streaming.resume(ok);
    if (ok) await keepAlive();
  }

  return {
    start() {
      unsubscribe ??= trace.onGrow(onGrow);
      loop ??= everyInterval(clock, loopController.signal, () => intervalMs, tick);
    },
    flush,
    async finish(final) {
      unsubscribe?.();
      loopController.abort();
      await loop;
      intervalMs = DEFAULT_UPDATE_INTERVAL_MS;
      for (let attempt = 0; attempt < FINAL_UPDATE_RETRY_LIMIT && !(await flush()) && !gone; attempt++) {
        await clock.sleep(intervalMs);
      }
      return sendFinalUpdate(options, final);
    },
    stop() {
      unsubscribe?.();
      loopController.abort();
    },
    get sent() {
      return sent;
    },
  };
}
