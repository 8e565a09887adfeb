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
 *
 * Coordinator outages (a restart, a database down): a PATCH or PUT that gets no answer
 * (connection refused or reset), a 5xx or a 429 is sent again, the same bytes from the last
 * acknowledged offset, so nothing is lost or sent twice. While the job runs, the loop simply tries
 * again at the next interval. At the end, `finish()` retries the remaining PATCHes, then the final
 * PUT, each up to FINAL_UPDATE_RETRY_LIMIT times, waiting 1 s doubling up to RETRY_BACKOFF_MAX_MS
 * (60 s) between tries, or the answer's `Retry-After` when longer (honoured up to
 * RETRY_AFTER_MAX_MS, 5 min): a job that ends while its coordinator is down for up to about 4
 * minutes still reports its whole log and its state.
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
export const RETRY_BACKOFF_START_MS = 1000;
export const RETRY_BACKOFF_MAX_MS = 60_000;
export const RETRY_AFTER_MAX_MS = 5 * 60 * 1000;

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
  /** Maximum wait between final retries (default RETRY_BACKOFF_MAX_MS; tests shorten it). */
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
  /** Full chunks go out as soon as they are written (off after a failed PATCH until one succeeds). */
  let streaming = true;
  let draining = false;
  let unsubscribe: (() => void) | undefined;

  /** The last refusal's `Retry-After`, until an answer accepts something again. */
  let retryAfterMs = 0;

  function observe(state: RemoteState): void {
    retryAfterMs = Math.min(state.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS);
    if (state.updateInterval !== undefined)
      intervalMs = Math.min(state.updateInterval * 1000, MAX_UPDATE_INTERVAL_MS);
    if (state.status === 403 || state.status === 404) gone = true;
    const verdict = verdictOf(state.status, state.jobStatus);
    if (verdict) options.onRemoteVerdict(verdict);
  }

  function output(): NonNullable<UpdateJobRequest['output']> {
    return { checksum: trace.checksum(), bytesize: trace.size };
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
    if (!streaming || draining || gone || trace.size - sent < TRACE_PATCH_LIMIT) return;
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
  }

  async function keepAlive(): Promise<void> {
    if (clock.monotonic() - lastContactAt < Math.min(FORCE_SEND_INTERVAL_MS, intervalMs)) return;
    lastContactAt = clock.monotonic();
    observe(await client.updateJob(jobId, jobToken, { state: 'running', output: output() }));
  }

  async function run(): Promise<void> {
    while (!loopController.signal.aborted) {
      try {
        await clock.sleep(Math.max(intervalMs, retryAfterMs), loopController.signal);
      } catch {
        return;
      }
      const ok = await flush();
      streaming = ok;
      if (ok) await keepAlive();
    }
  }

  const maxBackoff = options.maxBackoffMs ?? RETRY_BACKOFF_MAX_MS;

  /** The wait before the next final try: the backoff, or the server's Retry-After when longer. */
  function retryWait(backoff: number): number {
    return Math.max(Math.min(backoff, maxBackoff), retryAfterMs);
  }

  /** Sends what is left of the trace, retrying through an outage; true when all was accepted. */
  async function flushWithRetries(): Promise<boolean> {
    let backoff = RETRY_BACKOFF_START_MS;
    for (let attempt = 1; ; attempt++) {
      if ((await flush()) || gone) return !gone;
      if (attempt >= FINAL_UPDATE_RETRY_LIMIT) return false;
      logger.debug({ jobId, sent, size: trace.size, attempt }, 'trace not accepted; retrying');
      await clock.sleep(retryWait(backoff));
      backoff *= 2;
    }
  }

  async function sendFinal(final: FinalState): Promise<number> {
    let backoff = RETRY_BACKOFF_START_MS;
    let status = 0;
    for (let attempt = 1; attempt <= FINAL_UPDATE_RETRY_LIMIT; attempt++) {
      const state = await client.updateJob(jobId, jobToken, {
        ...final,
        output: output(),
        checksum: trace.checksum(),
      });
      status = state.status;
      retryAfterMs = Math.min(state.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS);
      if (status === 200 || status === 403 || status === 404 || status === 409 || status === 400)
        return status;
      const accepted = Math.min(
        (state.updateInterval ?? DEFAULT_UPDATE_INTERVAL_MS / 1000) * 1000,
        MAX_UPDATE_INTERVAL_MS,
      );
      logger.debug({ jobId, status, attempt }, 'final job update not accepted yet; retrying');
      await clock.sleep(status === 202 ? accepted : retryWait(backoff));
      backoff *= 2;
    }
    logger.error({ jobId, status }, 'final job update failed');
    return status;
  }

  return {
    start() {
      unsubscribe ??= trace.onGrow(onGrow);
      loop ??= run();
    },
    flush,
    async finish(final) {
      unsubscribe?.();
      loopController.abort();
      await loop;
      intervalMs = DEFAULT_UPDATE_INTERVAL_MS;
      if (!(await flushWithRetries()) && !gone)
        logger.error({ jobId, sent, size: trace.size }, 'trace not fully accepted; sending the final state');
      return sendFinal(final);
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
