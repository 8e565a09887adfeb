/**
 * The runner side of the Runner API v4 (see src/api/runner-api.ts): verify/unregister, the job
 * request long poll, job status updates and trace patches. One client per `[[runners]]` entry (url +
 * token); it remembers the last `X-GitLab-Last-Update` seen and sends it back as `last_update`.
 * Network failures resolve as status 0; only programming errors throw.
 */
import { randomUUID } from 'node:crypto';

import {
  HEADER_ANNOUNCE,
  HEADER_ANNOUNCED_JOBS,
  HEADER_ANNOUNCED_STAGES,
  HEADER_JOB_ANNOUNCED,
  parseAnnouncedJobs,
  parseAnnouncedStages,
  type AnnouncedJobs,
} from '../api/announced-jobs.js';
import {
  HEADER_JOB_STATUS,
  HEADER_JOB_TOKEN,
  HEADER_LAST_UPDATE,
  HEADER_RUNNER_TOKEN,
  HEADER_TRACE_PATCH_LIMIT,
  HEADER_TRACE_PATCHES_IN_FLIGHT,
  HEADER_TRACE_UPDATE_INTERVAL,
  RUNNER_API_PREFIX,
  parseRangeSize,
  type JobPayload,
  type RemoteJobStatus,
  type RunnerInfo,
  type UpdateJobRequest,
  type VerifyRunnerResponse,
} from '../api/runner-api.js';
import { createBufferFetch } from './buffer-fetch.js';
import { normalizeJobPayload } from './payload.js';

export type ApiEndpoint = 'request_job' | 'update_job' | 'patch_trace' | 'verify' | 'unregister';

export interface CoordinatorClientOptions {
  url: string;
  token: string;
  systemId: string;
  info: RunnerInfo;
  userAgent: string;
  /** Replaces the HTTP client of every request (trace PATCHes included). */
  fetch?: typeof fetch;
  /** Called once per answered (or failed, status 0) request with its duration, for metrics. */
  onResponse?(endpoint: ApiEndpoint, method: string, status: number, seconds: number): void;
  /** Monotonic milliseconds for request durations; default `performance.now`. */
  now?: () => number;
  /** Job requests ask for announced jobs (`X-Flotilla-Announce`, see src/api/announced-jobs.ts). */
  announce?: boolean;
}

export interface RemoteState {
  status: number;
  jobStatus: RemoteJobStatus | undefined;
  /** Seconds from X-GitLab-Trace-Update-Interval, when present and valid. */
  updateInterval: number | undefined;
  /** Milliseconds from `Retry-After` on a 429 or 5xx answer, when present and valid. */
  retryAfterMs?: number;
}

/** A Flotilla coordinator's announcement on a job request's answer (`announce` option). */
export interface Announcement {
  /** Undefined when the answer carries none (a GitLab coordinator). */
  announced?: AnnouncedJobs;
  /** On a job: it was created before it became pending. */
  jobAnnounced?: boolean;
}

export type JobRequestResult =
  | ({ kind: 'job'; payload: JobPayload } & Announcement)
  | ({ kind: 'none'; queueChanged: boolean } & Announcement)
  | { kind: 'unhealthy'; status: number }
  | { kind: 'retry'; status: number; retryAfterMs: number | undefined };

export interface PatchResult extends RemoteState {
  /** The server's trace size from `Range: 0-<size>`. */
  rangeSize: number | null;
  /** The largest PATCH body the server says it accepts (`X-Flotilla-Trace-Patch-Limit`), when valid. */
  patchLimit?: number;
  /** How many PATCHes of a job the server orders (`X-Flotilla-Trace-Patches-In-Flight`), when valid. */
  patchesInFlight?: number;
}

function positiveHeader(res: Response, name: string): number | undefined {
  const value = Number(res.headers.get(name) ?? '');
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** Strips a trailing slash and gitlab-runner's legacy `/ci` suffix. */
export function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/ci$/, '');
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function remoteState(res: Response): RemoteState {
  const interval = Number(res.headers.get(HEADER_TRACE_UPDATE_INTERVAL) ?? '');
  const retryAfterMs =
    res.status === 429 || res.status >= 500
      ? parseRetryAfter(res.headers.get('retry-after'), Date.now())
      : undefined;
  return {
    status: res.status,
    jobStatus: (res.headers.get(HEADER_JOB_STATUS) ?? undefined) as RemoteJobStatus | undefined,
    updateInterval: Number.isFinite(interval) && interval > 0 ? interval : undefined,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

export interface CoordinatorClient {
  readonly baseUrl: string;
  verify(signal?: AbortSignal): Promise<{ status: number; body: VerifyRunnerResponse | null }>;
  unregister(): Promise<number>;
  requestJob(signal: AbortSignal): Promise<JobRequestResult>;
  updateJob(jobId: number, jobToken: string, body: UpdateJobRequest): Promise<RemoteState>;
  patchTrace(jobId: number, jobToken: string, offset: number, bytes: Buffer): Promise<PatchResult>;
}

/** The body of a verify answer; null when it is not a JSON object (an old server answers a bare "200"). */
async function verifyAnswer(res: Response): Promise<VerifyRunnerResponse | null> {
  const text = await res.text();
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object') return value as VerifyRunnerResponse;
  } catch {
    // not JSON
  }
  return null;
}

/** The announced jobs of an answer, with the stages when the coordinator sent them. */
function announcedOf(headers: Headers): AnnouncedJobs | undefined {
  const announced = parseAnnouncedJobs(headers.get(HEADER_ANNOUNCED_JOBS));
  const stages = parseAnnouncedStages(headers.get(HEADER_ANNOUNCED_STAGES));
  return announced && stages ? { ...announced, stages } : announced;
}

/** What a `POST /jobs/request` answer means; `sent` and `seen` are the last update sent and the one seen since. */
async function jobRequestAnswer(
  res: Response,
  sent: string | undefined,
  seen: string | undefined,
): Promise<JobRequestResult> {
  const announced = announcedOf(res.headers);
  const told = announced ? { announced } : {};
  if (res.status === 201 && (res.headers.get('content-type') ?? '').includes('application/json')) {
    const payload = normalizeJobPayload(await res.json());
    const jobAnnounced = res.headers.get(HEADER_JOB_ANNOUNCED) === '1';
    return { kind: 'job', payload, ...told, ...(jobAnnounced ? { jobAnnounced } : {}) };
  }
  await res.arrayBuffer().catch(() => undefined);
  // A long poll that ends because the queue changed (GitLab Workhorse) answers 204 with a new
  // value. The first value ever seen counts too: a request without `last_update` is never held,
  // so the next one (which sends it) is the first that can wait for a job as a long poll.
  if (res.status === 204) return { kind: 'none', queueChanged: seen !== undefined && seen !== sent, ...told };
  if (res.status === 403) return { kind: 'unhealthy', status: 403 };
  return {
    kind: 'retry',
    status: res.status,
    retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), Date.now()),
  };
}

/**
 * Sends Runner API requests to `baseUrl`: with the runner's user agent and a request id, timed for
 * the metrics (`onResponse`), remembering the last `X-GitLab-Last-Update` seen. A request that gets
 * no answer resolves null (unless its signal aborted it).
 */
function runnerApiTransport(options: CoordinatorClientOptions, baseUrl: string) {
  const doFetch = options.fetch ?? fetch;
  // Trace PATCHes carry up to a megabyte each: sent without fetch's copy and overhead.
  const doPatch = options.fetch ?? createBufferFetch();
  const now = options.now ?? (() => performance.now());
  let lastUpdate: string | undefined;

  async function call(
    endpoint: ApiEndpoint,
    method: string,
    path: string,
    init: Omit<RequestInit, 'headers'> & { headers: Record<string, string> },
    send: (url: string, init: RequestInit) => Promise<Response> = doFetch,
  ): Promise<Response | null> {
    // A record with names in lower case, as a Headers would have them: no Headers object, whose
    // first use makes Node 20 load undici (a local run's in-process calls never need it).
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers)) headers[name.toLowerCase()] = value;
    headers['user-agent'] = options.userAgent;
    headers['x-request-id'] = randomUUID().replace(/-/g, '');
    const started = now();
    const seconds = (): number => (now() - started) / 1000;
    try {
      const res = await send(`${baseUrl}${RUNNER_API_PREFIX}${path}`, { ...init, method, headers });
      const seen = res.headers.get(HEADER_LAST_UPDATE);
      if (seen) lastUpdate = seen;
      options.onResponse?.(endpoint, method, res.status, seconds());
      return res;
    } catch (err) {
      if (init.signal?.aborted) throw err;
      options.onResponse?.(endpoint, method, 0, seconds());
      return null;
    }
  }

  function json(
    endpoint: ApiEndpoint,
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
    auth: Record<string, string> = {},
  ) {
    return call(endpoint, method, path, {
      headers: { 'content-type': 'application/json', accept: 'application/json', ...auth },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  }

  return { call, json, doPatch, lastUpdate: (): string | undefined => lastUpdate };
}

export function createCoordinatorClient(options: CoordinatorClientOptions): CoordinatorClient {
  const baseUrl = normalizeBaseUrl(options.url);
  const { call, json, doPatch, lastUpdate } = runnerApiTransport(options, baseUrl);
  const runnerAuth = { [HEADER_RUNNER_TOKEN]: options.token };

  return {
    baseUrl,
    async verify(signal) {
      const body = { token: options.token, system_id: options.systemId, info: options.info };
      const res = await json('verify', 'POST', '/runners/verify', body, signal, runnerAuth);
      if (!res) return { status: 0, body: null };
      return { status: res.status, body: await verifyAnswer(res) };
    },
    async unregister() {
      const res = await json(
        'unregister',
        'DELETE',
        '/runners',
        { token: options.token },
        undefined,
        runnerAuth,
      );
      await res?.arrayBuffer().catch(() => undefined);
      return res?.status ?? 0;
    },
    async requestJob(signal) {
      const sent = lastUpdate();
      const body = {
        token: options.token,
        system_id: options.systemId,
        info: options.info,
        ...(sent ? { last_update: sent } : {}),
      };
      const headers = options.announce ? { ...runnerAuth, [HEADER_ANNOUNCE]: '1' } : runnerAuth;
      const res = await json('request_job', 'POST', '/jobs/request', body, signal, headers);
      return res ? jobRequestAnswer(res, sent, lastUpdate()) : { kind: 'unhealthy', status: 0 };
    },
    async updateJob(jobId, jobToken, body) {
      const res = await json('update_job', 'PUT', `/jobs/${jobId}`, { ...body, token: jobToken }, undefined, {
        [HEADER_JOB_TOKEN]: jobToken,
      });
      await res?.arrayBuffer().catch(() => undefined);
      return res ? remoteState(res) : { status: 0, jobStatus: undefined, updateInterval: undefined };
    },
    async patchTrace(jobId, jobToken, offset, bytes) {
      const res = await call(
        'patch_trace',
        'PATCH',
        `/jobs/${jobId}/trace`,
        {
          headers: {
            'content-type': 'text/plain',
            'content-range': `${offset}-${offset + bytes.length - 1}`,
            [HEADER_JOB_TOKEN]: jobToken,
          },
          body: bytes,
        },
        doPatch,
      );
      await res?.arrayBuffer().catch(() => undefined);
      if (!res) return { status: 0, jobStatus: undefined, updateInterval: undefined, rangeSize: null };
      const patchLimit = positiveHeader(res, HEADER_TRACE_PATCH_LIMIT);
      const patchesInFlight = positiveHeader(res, HEADER_TRACE_PATCHES_IN_FLIGHT);
      return {
        ...remoteState(res),
        rangeSize: parseRangeSize(res.headers.get('range') ?? undefined),
        ...(patchLimit !== undefined ? { patchLimit } : {}),
        ...(patchesInFlight !== undefined ? { patchesInFlight } : {}),
      };
    },
  };
}
