/**
 * Sends a job's trace incrementally and its final state, as gitlab-runner does: every update
 * interval (3 s, replaced by the server's X-GitLab-Trace-Update-Interval, capped at 15 min) PATCH the
 * unsent bytes in chunks of at most 1 MiB (4 MiB once a Flotilla coordinator announces it accepts
 * them with X-Flotilla-Trace-Patch-Limit; a 413 to a larger chunk goes back to 1 MiB for good);
 * 202 advances, 416 realigns to the server's size and resends; a keep-alive `PUT state=running` goes out when nothing at all was sent for one update
 * interval (gitlab-runner waits 30 s; asking sooner is how a quiet job learns of a cancel within
 * seconds, and the coordinator sets the interval, so it controls the cost). A job that prints
 * fast does not wait for the interval: once a full chunk is unsent, the sender streams full chunks
 * (one PATCH in flight, the next as soon as it is answered; two once a Flotilla coordinator
 * announces X-Flotilla-Trace-Patches-In-Flight, so the next chunk travels while the coordinator
 * syncs the last one), so the upload overlaps the job instead of starting when it ends; a failed
 * streaming PATCH falls back to the interval. The remote job
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
import {
  TRACE_PATCH_LIMIT,
  TRACE_PATCH_LIMIT_MAX,
  TRACE_PATCH_LIMIT_MIN,
  TRACE_PATCHES_IN_FLIGHT_MAX,
  type RemoteJobStatus,
  type UpdateJobRequest,
} from '../../api/runner-api.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { CoordinatorClient, PatchResult, RemoteState } from '../coordinator-client.js';
import type { JobTrace } from './job-trace.js';
import { giveBackReadBuffers, takeReadBuffer } from './read-buffers.js';

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

/** The sender's state, shared by the functions below (one per concern of the old closure). */
interface SenderState {
  readonly o: TraceSenderOptions;
  readonly loopController: AbortController;
  intervalMs: number;
  sent: number;
  /** Last time anything (PATCH with data, or PUT) reached the coordinator. */
  lastContactAt: number;
  loop: Promise<void> | undefined;
  sending: Promise<boolean>;
  /** The coordinator no longer knows the job (403/404): stop resending. */
  gone: boolean;
  /** Full chunks go out as soon as they are written (off after a failed PATCH until one succeeds). */
  streaming: boolean;
  draining: boolean;
  unsubscribe: (() => void) | undefined;
  /** The last refusal's `Retry-After`, until an answer accepts something again. */
  retryAfterMs: number;
  /** The read buffer of the PATCHes sent one at a time (`sending` chains the sends). */
  scratch: Buffer | undefined;
  /** Read buffers of PATCHes sent several at a time, once answered. */
  spare: Buffer[];
  /** Largest PATCH body: 1 MiB, or what the coordinator announces (up to TRACE_PATCH_LIMIT_MAX). */
  patchLimit: number;
  /** A PATCH over 1 MiB was refused with 413 (a proxy's limit): 1 MiB from then on. */
  largeRefused: boolean;
  /**
   * PATCHes kept in flight: 1, or what a Flotilla coordinator announces (it stores a PATCH that
   * arrives ahead of its predecessor after that one); back to 1 for the job after any answer
   * other than 202 while more than one was in flight.
   */
  inFlight: number;
  inFlightRefused: boolean;
}

function observe(s: SenderState, state: RemoteState): void {
  s.retryAfterMs = Math.min(state.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS);
  if (state.updateInterval !== undefined)
    s.intervalMs = Math.min(state.updateInterval * 1000, MAX_UPDATE_INTERVAL_MS);
  if (state.status === 403 || state.status === 404) s.gone = true;
  const verdict = verdictOf(state.status, state.jobStatus);
  if (verdict) s.o.onRemoteVerdict(verdict);
}

function output(s: SenderState): NonNullable<UpdateJobRequest['output']> {
  return { checksum: s.o.trace.checksum(), bytesize: s.o.trace.size };
}

/**
 * Adopts the coordinator's announced PATCH limit; true when the answer was a 413 to a body over
 * 1 MiB, which is resent at once in 1 MiB chunks (and larger ones are never sent again).
 */
function adoptPatchLimit(s: SenderState, result: PatchResult, sentBytes: number): boolean {
  if (result.status === 413 && sentBytes > TRACE_PATCH_LIMIT) {
    s.largeRefused = true;
    s.patchLimit = TRACE_PATCH_LIMIT;
    s.o.logger.warn(
      { jobId: s.o.jobId, bytes: sentBytes },
      'large trace PATCH refused; sending 1 MiB chunks',
    );
    return true;
  }
  const announced = result.patchLimit;
  if (!s.largeRefused && announced !== undefined && announced >= TRACE_PATCH_LIMIT_MIN)
    s.patchLimit = Math.min(announced, TRACE_PATCH_LIMIT_MAX);
  if (!s.inFlightRefused && result.patchesInFlight !== undefined)
    s.inFlight = Math.min(result.patchesInFlight, TRACE_PATCHES_IN_FLIGHT_MAX);
  return false;
}

/** Gives the sender's read buffers back once no PATCH can use them any more. */
function releaseScratch(s: SenderState): void {
  giveBackReadBuffers([s.scratch, ...s.spare]);
  s.scratch = undefined;
  s.spare = [];
}

/** The next PATCH body: up to `patchLimit` bytes from the last acknowledged offset. */
function nextChunk(s: SenderState): Buffer {
  const { trace } = s.o;
  const length = Math.min(trace.size - s.sent, s.patchLimit);
  s.scratch ??= s.spare.pop() ?? takeReadBuffer();
  return trace.slice(s.sent, s.sent + length, s.scratch);
}

/** Whether a chunk starting at `offset` goes out now: anything unsent, or (`fullOnly`) a full chunk. */
function chunkReady(s: SenderState, offset: number, fullOnly: boolean): boolean {
  const unsent = s.o.trace.size - offset;
  return !s.gone && (fullOnly ? unsent >= s.patchLimit : unsent > 0);
}

/** Whether `sendPending` goes on from the acknowledged offset. */
function moreToSend(s: SenderState, fullOnly: boolean): boolean {
  return chunkReady(s, s.sent, fullOnly);
}

interface Flight {
  offset: number;
  length: number;
  buffer: Buffer;
  answer: Promise<PatchResult>;
}

function launch(s: SenderState, offset: number, fullOnly: boolean): Flight | null {
  const { client, jobId, jobToken, trace } = s.o;
  if (!chunkReady(s, offset, fullOnly)) return null;
  const length = Math.min(trace.size - offset, s.patchLimit);
  const buffer = s.spare.pop() ?? s.scratch ?? takeReadBuffer();
  if (buffer === s.scratch) s.scratch = undefined;
  const chunk = trace.slice(offset, offset + length, buffer);
  return { offset, length, buffer, answer: client.patchTrace(jobId, jobToken, offset, chunk) };
}

/**
 * Sends with up to `s.inFlight` PATCHes in flight, answers taken in the order they were sent.
 * At the first answer other than 202 nothing more is sent and the others are awaited (a later 202
 * still counts: its size is the server's); the caller then goes on one PATCH at a time from the
 * acknowledged offset, where a 416 or an error gets its answer uncrossed by another PATCH.
 */
async function sendPipelined(s: SenderState, fullOnly: boolean): Promise<boolean> {
  const { trace, clock } = s.o;
  const flights: Flight[] = [];
  let next = s.sent;
  let ok = true;
  for (;;) {
    while (ok && flights.length < s.inFlight) {
      const flight = launch(s, next, fullOnly);
      if (!flight) break;
      flights.push(flight);
      next += flight.length;
    }
    const flight = flights.shift();
    if (!flight) return ok;
    const result = await flight.answer;
    s.spare.push(flight.buffer);
    observe(s, result);
    adoptPatchLimit(s, result, flight.length);
    if (result.status === 202) {
      s.sent = Math.max(s.sent, Math.min(trace.size, result.rangeSize ?? flight.offset + flight.length));
      s.lastContactAt = clock.monotonic();
    } else if (ok) {
      ok = false;
      s.inFlight = 1;
      s.inFlightRefused = true;
    }
  }
}

async function sendPending(s: SenderState, fullOnly = false): Promise<boolean> {
  const { client, jobId, jobToken, trace, clock, logger } = s.o;
  while (moreToSend(s, fullOnly)) {
    if (s.inFlight > 1 && (await sendPipelined(s, fullOnly))) continue;
    if (!moreToSend(s, fullOnly)) break;
    const chunk = nextChunk(s);
    const result = await client.patchTrace(jobId, jobToken, s.sent, chunk);
    observe(s, result);
    if (adoptPatchLimit(s, result, chunk.length)) continue;
    if (result.status === 202) {
      s.sent = Math.min(trace.size, result.rangeSize ?? s.sent + chunk.length);
      s.lastContactAt = clock.monotonic();
    } else if (result.status === 416 && result.rangeSize !== null) {
      logger.warn({ jobId, sent: s.sent, serverSize: result.rangeSize }, 'trace offset realigned');
      s.sent = Math.min(trace.size, result.rangeSize);
    } else return false;
  }
  return !s.gone;
}

/** Sends after the PATCHes already queued: everything unsent, or (`fullOnly`) only full chunks. */
function flush(s: SenderState, fullOnly = false): Promise<boolean> {
  const send = (): Promise<boolean> => sendPending(s, fullOnly);
  s.sending = s.sending.then(send, send);
  return s.sending;
}

/**
 * After each append: a full unsent chunk starts a drain unless one is running already. A drain
 * sends full chunks only; the tail waits for more output, the update interval or the end.
 */
function onGrow(s: SenderState): void {
  if (!s.streaming || s.draining || s.gone || s.o.trace.size - s.sent < s.patchLimit) return;
  s.draining = true;
  void flush(s, true).then(
    (ok) => {
      s.draining = false;
      s.streaming = ok;
    },
    () => {
      s.draining = false;
      s.streaming = false;
    },
  );
}

async function keepAlive(s: SenderState): Promise<void> {
  const { clock } = s.o;
  if (clock.monotonic() - s.lastContactAt < Math.min(FORCE_SEND_INTERVAL_MS, s.intervalMs)) return;
  s.lastContactAt = clock.monotonic();
  observe(s, await s.o.client.updateJob(s.o.jobId, s.o.jobToken, { state: 'running', output: output(s) }));
}

async function run(s: SenderState): Promise<void> {
  while (!s.loopController.signal.aborted) {
    try {
      await s.o.clock.sleep(Math.max(s.intervalMs, s.retryAfterMs), s.loopController.signal);
    } catch {
      return;
    }
    const ok = await flush(s);
    s.streaming = ok;
    if (ok) await keepAlive(s);
  }
}

/** The wait before the next final try: the backoff, or the server's Retry-After when longer. */
function retryWait(s: SenderState, backoff: number): number {
  return Math.max(Math.min(backoff, s.o.maxBackoffMs ?? RETRY_BACKOFF_MAX_MS), s.retryAfterMs);
}

/** Sends what is left of the trace, retrying through an outage; true when all was accepted. */
async function flushWithRetries(s: SenderState): Promise<boolean> {
  let backoff = RETRY_BACKOFF_START_MS;
  for (let attempt = 1; ; attempt++) {
    if ((await flush(s)) || s.gone) return !s.gone;
    if (attempt >= FINAL_UPDATE_RETRY_LIMIT) return false;
    s.o.logger.debug(
      { jobId: s.o.jobId, sent: s.sent, size: s.o.trace.size, attempt },
      'trace not accepted; retrying',
    );
    await s.o.clock.sleep(retryWait(s, backoff));
    backoff *= 2;
  }
}

async function sendFinal(s: SenderState, final: FinalState): Promise<number> {
  const { client, jobId, jobToken, trace, clock, logger } = s.o;
  let backoff = RETRY_BACKOFF_START_MS;
  let status = 0;
  for (let attempt = 1; attempt <= FINAL_UPDATE_RETRY_LIMIT; attempt++) {
    const state = await client.updateJob(jobId, jobToken, {
      ...final,
      output: output(s),
      checksum: trace.checksum(),
    });
    status = state.status;
    s.retryAfterMs = Math.min(state.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS);
    if (status === 200 || status === 403 || status === 404 || status === 409 || status === 400) return status;
    const accepted = Math.min(
      (state.updateInterval ?? DEFAULT_UPDATE_INTERVAL_MS / 1000) * 1000,
      MAX_UPDATE_INTERVAL_MS,
    );
    logger.debug({ jobId, status, attempt }, 'final job update not accepted yet; retrying');
    await clock.sleep(status === 202 ? accepted : retryWait(s, backoff));
    backoff *= 2;
  }
  logger.error({ jobId, status }, 'final job update failed');
  return status;
}

export function createTraceSender(options: TraceSenderOptions): TraceSender {
  const s: SenderState = {
    o: options,
    loopController: new AbortController(),
    intervalMs: DEFAULT_UPDATE_INTERVAL_MS,
    sent: 0,
    lastContactAt: options.clock.monotonic(),
    loop: undefined,
    sending: Promise.resolve(true),
    gone: false,
    streaming: true,
    draining: false,
    unsubscribe: undefined,
    retryAfterMs: 0,
    scratch: undefined,
    patchLimit: TRACE_PATCH_LIMIT,
    largeRefused: false,
    inFlight: 1,
    inFlightRefused: false,
    spare: [],
  };
  return {
    start() {
      s.unsubscribe ??= options.trace.onGrow(() => onGrow(s));
      s.loop ??= run(s);
    },
    flush: () => flush(s),
    async finish(final) {
      s.unsubscribe?.();
      s.loopController.abort();
      await s.loop;
      s.intervalMs = DEFAULT_UPDATE_INTERVAL_MS;
      if (!(await flushWithRetries(s)) && !s.gone)
        options.logger.error(
          { jobId: options.jobId, sent: s.sent, size: options.trace.size },
          'trace not fully accepted; sending the final state',
        );
      // every PATCH is answered: the read buffer is free for the next job
      releaseScratch(s);
      return sendFinal(s, final);
    },
    stop() {
      s.unsubscribe?.();
      s.loopController.abort();
    },
    get sent() {
      return s.sent;
    },
  };
}
