/**
 * One job-request worker of a runner entry (an entry runs `request_concurrency` of them). It takes a
 * job slot, long-polls `POST /jobs/request`, and then:
 * - 201 → hands the job over and polls again at once;
 * - 204 → polls again at once when the server held the request for a full check interval (long
 *   poll) or the queue version in X-GitLab-Last-Update changed (GitLab Workhorse ends a long poll
 *   that way; the first version seen counts as a change, since only a request that sends one can be
 *   held), otherwise when the check interval (plus jitter) since the request started has passed.
 *   Without that first re-poll a job created just after the runner started waited for the whole
 *   first check interval (gitlab-runner waits it too; we differ on purpose);
 * - 403 / network error → unhealthy; after 3 in a row the entry is parked for an hour;
 * - 409 / 429 / 5xx → exponential backoff, or the server's Retry-After.
 * Aborting `signal` stops it at once, also in the middle of a long poll.
 */
import type { JobPayload } from '../api/runner-api.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { CoordinatorClient, JobRequestResult } from './coordinator-client.js';
import type { SlotOwner, Slots } from './slots.js';

export const UNHEALTHY_REQUESTS_LIMIT = 3;
export const UNHEALTHY_INTERVAL_MS = 60 * 60 * 1000;
export const MIN_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 60_000;

/** The per-entry state shared by its workers; `limit`/`requestConcurrency` follow config reloads. */
export interface PollTarget extends SlotOwner {
  client: CoordinatorClient;
  limit: number;
  requestConcurrency: number;
  unhealthyCount: number;
  parkedUntilMs: number;
}

export interface PollWorkerOptions {
  target: PollTarget;
  index: number;
  slots: Slots;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
  checkIntervalMs(): number;
  random?: () => number;
  /** Takes ownership of the slot: the job's runner releases it when the job ends. */
  onJob(payload: JobPayload, concurrentId: number): void;
  /** Each attempt to take a slot for a request: true when taken, false when `concurrent`/`limit` is full. */
  onFeed?(fed: boolean): void;
}

async function request(options: PollWorkerOptions): Promise<JobRequestResult | null> {
  try {
    return await options.target.client.requestJob(options.signal);
  } catch (err) {
    if (options.signal.aborted) return null;
    throw err;
  }
}

/** Milliseconds to wait after one request, and the next backoff. */
export function nextWait(
  result: JobRequestResult,
  elapsedMs: number,
  intervalMs: number,
  backoffMs: number,
  random: () => number,
): number {
  switch (result.kind) {
    case 'job':
      return 0;
    case 'none': {
      if (result.queueChanged) return 0;
      const rest = Math.max(0, intervalMs - elapsedMs);
      return rest === 0 ? 0 : rest + Math.floor(random() * Math.min(rest * 0.1, 1000));
    }
    case 'unhealthy':
      return intervalMs;
    case 'retry':
      return result.retryAfterMs ?? backoffMs + Math.floor(random() * backoffMs * 0.1);
  }
}

export async function runPollWorker(options: PollWorkerOptions): Promise<void> {
  const { target, slots, clock, logger, signal } = options;
  const random = options.random ?? Math.random;
  let backoffMs = MIN_BACKOFF_MS;
  while (!signal.aborted && options.index < target.requestConcurrency) {
    const parked = target.parkedUntilMs - clock.monotonic();
    if (parked > 0) {
      if (!(await pause(clock, parked, signal))) return;
      continue;
    }
    const id = slots.acquire(target, target.limit);
    options.onFeed?.(id !== null);
    if (id === null) {
      if (
        !(await slots.waitForRelease(signal).then(
          () => true,
          () => false,
        ))
      )
        return;
      continue;
    }
    const started = clock.monotonic();
    const result = await request(options);
    if (result === null) {
      slots.release(target, id);
      return;
    }
    if (result.kind === 'job') options.onJob(result.payload, slots.settle(target, id));
    else slots.release(target, id);
    observe(target, result, logger, clock);
    const wait = nextWait(result, clock.monotonic() - started, options.checkIntervalMs(), backoffMs, random);
    backoffMs = result.kind === 'retry' ? Math.min(backoffMs * 2, MAX_BACKOFF_MS) : MIN_BACKOFF_MS;
    if (wait > 0 && !(await pause(clock, wait, signal))) return;
  }
}

function observe(target: PollTarget, result: JobRequestResult, logger: Logger, clock: Clock): void {
  if (result.kind !== 'unhealthy') {
    target.unhealthyCount = 0;
    if (result.kind === 'retry') logger.warn({ status: result.status }, 'job request failed; retrying later');
    return;
  }
  target.unhealthyCount++;
  logger.warn(
    { status: result.status, count: target.unhealthyCount },
    'job request failed: runner unhealthy',
  );
  if (target.unhealthyCount >= UNHEALTHY_REQUESTS_LIMIT) {
    target.parkedUntilMs = clock.monotonic() + UNHEALTHY_INTERVAL_MS;
    target.unhealthyCount = 0;
    logger.error(
      { parkedForMs: UNHEALTHY_INTERVAL_MS },
      'runner is unhealthy and will not request jobs for a while',
    );
  }
}

async function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}
