/**
 * A `fetch` for clients that live in the same process as the coordinator they call (`flotilla
 * run`'s embedded runner and log follower): requests to the coordinator's own URL go straight to
 * its Fastify routes (`inject`: same routing, hooks, validation, status codes and headers as over
 * HTTP) without a socket, an HTTP parser or undici at either end. Other URLs use `fallback`.
 */
import type { Readable } from 'node:stream';

import type { FastifyInstance, LightMyRequestResponse as LightResponse } from 'fastify';

import {
  AnswerHeaders,
  bufferedResponse,
  streamedResponse,
  type AnswerHeadersInit,
} from './buffered-response.js';

type Fetch = typeof fetch;
type InjectMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** Statuses whose answer has no body (the Response constructor refuses one; here its body is null). */
const NO_BODY = new Set([101, 204, 205, 304]);

function requestUrl(input: Parameters<Fetch>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.toString();
  return input.url;
}

/** The request's headers as inject takes them (names in lower case), without loading undici. */
function headersOf(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new AnswerHeaders(init?.headers as AnswerHeadersInit | undefined).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/**
 * The request body as inject takes it; only the body types the project's clients send. A
 * `FormData` (artifact uploads) is streamed as multipart by inject itself, file parts included.
 */
function payloadOf(body: RequestInit['body']): string | Buffer | FormData | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof FormData) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('in-process fetch: unsupported request body type');
}

function responseHeaders(raw: Record<string, string | string[] | number | undefined>): AnswerHeaders {
  const headers = new AnswerHeaders();
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(key, String(one));
  }
  return headers;
}

/** `answer`, or a rejection with the signal's reason as soon as it aborts (its listener removed after). */
async function untilAborted<T>(answer: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return answer;
  if (signal.aborted) throw signal.reason;
  let onAbort = (): void => undefined;
  const stop = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([answer, stop]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export interface InProcessFetchOptions {
  /**
   * Hand each answer's body over as a stream as the route writes it, with backpressure (artifact
   * downloads, written to disk), instead of collecting it into one buffer first (the default,
   * cheaper for the small JSON answers of the Runner API).
   */
  streamAnswers?: boolean;
}

/** The answer as fetch gives it: its body streamed, or read from the buffer inject collected. */
function answerOf(res: LightResponse, streamed: boolean): Response {
  const init = {
    status: res.statusCode,
    statusText: res.statusMessage,
    headers: responseHeaders(res.headers),
  };
  if (NO_BODY.has(res.statusCode)) {
    if (streamed) res.stream().resume();
    return bufferedResponse(null, init);
  }
  if (!streamed) return bufferedResponse(res.rawPayload, init);
  return streamedResponse(streamedBody(res), init);
}

/**
 * The answer's body as a stream. When the consumer stops reading it before its end (a cancel, or
 * a failed write downstream), the route's side is destroyed too, as a closed socket would: inject
 * has no way back to the route, whose source (an artifact's file stream) would otherwise stay open.
 */
function streamedBody(res: LightResponse): Readable {
  const body = res.stream();
  body.once('close', () => {
    if (!body.readableEnded) res.raw.res.destroy();
  });
  return body;
}

/**
 * `fetch` that answers requests under `baseUrl` from `app` in this process. An aborted request
 * rejects with the signal's reason at once, as fetch does.
 */
export function inProcessFetch(
  app: FastifyInstance,
  baseUrl: string,
  fallback: Fetch = fetch,
  options: InProcessFetchOptions = {},
): Fetch {
  const base = baseUrl.replace(/\/+$/, '');
  const streamed = options.streamAnswers === true;
  return async (input, init) => {
    const url = requestUrl(input);
    if (!url.startsWith(`${base}/`)) return fallback(input, init);
    const payload = payloadOf(init?.body);
    const answer = app.inject({
      method: (init?.method ?? 'GET').toUpperCase() as InjectMethod,
      url: url.slice(base.length),
      headers: headersOf(init),
      ...(payload !== undefined ? { payload } : {}),
      ...(streamed ? { payloadAsStream: true } : {}),
    });
    return answerOf(await untilAborted(answer, init?.signal), streamed);
  };
}
