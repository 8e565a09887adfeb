/**
 * The HTTP layer the cloud providers share: JSON over `fetch` with a per-call timeout, retries with
 * backoff on rate limits (429, honouring `Retry-After`) and on server errors (5xx) for requests that
 * are safe to repeat, and errors classified as `ProviderError` kinds (rate_limit, capacity, api,
 * timeout). Each provider says which answers mean "quota" (`classify`).
 */
import type { Clock } from '../../shared/clock.js';
import { ProviderError, type ProviderErrorKind } from './provider.js';

export interface RestCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute URL, or a path joined to the base URL. */
  url: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Retry 5xx and timeouts (GET, DELETE, and creations that carry an idempotency key). */
  idempotent: boolean;
}

export interface RestAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RestClientOptions {
  baseUrl: string;
  /** Authorization and other headers, asked for on every call (tokens refresh). */
  headers: () => Promise<Record<string, string>>;
  clock: Clock;
  timeoutMs: number;
  /** Attempts after the first for retryable answers. */
  retries: number;
  /** First backoff delay; doubled per attempt, capped at `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The error kind of a failed answer (after retries); `null` = default (429 rate_limit, else api). */
  classify?: (status: number, body: unknown) => ProviderErrorKind | null;
  /** A readable message of a failed answer's body. */
  describe?: (body: unknown) => string;
  random?: () => number;
}

/** A failed cloud API answer: the HTTP status and the body as the cloud sent it. */
export class CloudApiError extends ProviderError {
  readonly status: number;
  readonly body: unknown;
  constructor(kind: ProviderErrorKind, status: number, message: string, body: unknown) {
    super(kind, message);
    this.name = 'CloudApiError';
    this.status = status;
    this.body = body;
  }
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or null. PURE. */
export function retryAfterMs(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** The wait a rate-limited answer asks for: `Retry-After`, else `ratelimit-reset` (epoch seconds). PURE. */
export function askedDelayMs(headers: Headers, nowMs: number): number | null {
  const after = retryAfterMs(headers.get('retry-after'), nowMs);
  if (after !== null) return after;
  const reset = Number(headers.get('ratelimit-reset'));
  return reset > 1e9 ? Math.max(0, reset * 1000 - nowMs) : null;
}

/** Exponential backoff with jitter: `baseMs` doubled per attempt, capped at `capMs`, times 0.5 to 1. */
export function backoffMs(attempt: number, random: () => number, baseMs = 500, capMs = 30_000): number {
  return Math.min(capMs, baseMs * 2 ** attempt) * (0.5 + random() / 2);
}

export interface RestClient {
  call<T>(c: RestCall): Promise<RestAnswer<T>>;
}

function buildUrl(base: string, c: RestCall): string {
  const url = new URL(c.url, base.endsWith('/') ? base : `${base}/`);
  for (const [k, v] of Object.entries(c.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function createRestClient(o: RestClientOptions): RestClient {
  const random = o.random ?? Math.random;
  const base = o.baseDelayMs ?? 500;
  const cap = o.maxDelayMs ?? 30_000;
  const delay = (attempt: number): number => backoffMs(attempt, random, base, cap);

  async function once(c: RestCall): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...(await o.headers()) };
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(buildUrl(o.baseUrl, c), {
      method: c.method,
      headers,
      ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
  }

  function failure(status: number, body: unknown, c: RestCall): CloudApiError {
    const kind = o.classify?.(status, body) ?? (status === 429 ? 'rate_limit' : 'api');
    const text = o.describe?.(body) ?? (typeof body === 'string' ? body : JSON.stringify(body));
    return new CloudApiError(kind, status, `${c.method} ${c.url}: ${status} ${text}`, body);
  }

  return {
    async call<T>(c: RestCall): Promise<RestAnswer<T>> {
      for (let attempt = 0; ; attempt++) {
        let res: Response;
        try {
          res = await once(c);
        } catch (err) {
          const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
          if (c.idempotent && attempt < o.retries) {
            await o.clock.sleep(delay(attempt));
            continue;
          }
          throw new ProviderError(timedOut ? 'timeout' : 'api', `${c.method} ${c.url}: ${String(err)}`, {
            cause: err,
          });
        }
        const body = await readBody(res);
        if (res.ok) return { status: res.status, body: body as T, headers: res.headers };
        const err = failure(res.status, body, c);
        const retryable = err.kind === 'rate_limit' || (res.status >= 500 && c.idempotent);
        if (!retryable || attempt >= o.retries) throw err;
        const asked = askedDelayMs(res.headers, o.clock.now().getTime());
        await o.clock.sleep(Math.min(cap, asked ?? delay(attempt)));
      }
    },
  };
}
