/**
 * Cache archives to and from the cache server through the pre-signed URLs the runner manager made:
 * the helper holds no credentials, only the URLs. A URL's query (its signature) is never logged.
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** How long the cache server may take to answer (headers) before it counts as unreachable. */
export const CACHE_SERVER_TIMEOUT_MS = 30_000;

/** The URL without its query: what logs may show. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export type DownloadResult =
  { kind: 'downloaded' } | { kind: 'missing' } | { kind: 'failed'; reason: string };

function describeFailure(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

async function withHeaderTimeout<T>(run: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  try {
    return await run(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** GETs `url` into `file`; a 404 (or S3's 403 for a missing object without list rights) is "missing". */
export async function downloadArchive(
  url: string,
  file: string,
  timeoutMs = CACHE_SERVER_TIMEOUT_MS,
): Promise<DownloadResult> {
  let res: Response;
  try {
    res = await withHeaderTimeout((signal) => fetch(url, { signal }), timeoutMs);
  } catch (err) {
    return { kind: 'failed', reason: describeFailure(err) };
  }
  if (res.status === 404) {
    await res.arrayBuffer().catch(() => undefined);
    return { kind: 'missing' };
  }
  if (res.status !== 200 || !res.body) {
    const body = await res.text().catch(() => '');
    const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
    return { kind: 'failed', reason: `${res.status} ${res.statusText}${code ? ` (${code})` : ''}` };
  }
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(file));
    return { kind: 'downloaded' };
  } catch (err) {
    await rm(file, { force: true });
    return { kind: 'failed', reason: describeFailure(err) };
  }
}

/** PUTs `file` to `url`; resolves with null on success, else the reason. */
export async function uploadArchive(
  url: string,
  file: string,
  timeoutMs = CACHE_SERVER_TIMEOUT_MS,
): Promise<string | null> {
  try {
    const body = await openAsBlob(file, { type: 'application/zip' });
    const res = await withHeaderTimeout(
      (signal) => fetch(url, { method: 'PUT', body, signal, headers: { 'Content-Type': 'application/zip' } }),
      Math.max(timeoutMs, Math.ceil(body.size / 1024)),
    );
    const text = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) return null;
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    return `${res.status} ${res.statusText}${code ? ` (${code})` : ''}`;
  } catch (err) {
    return describeFailure(err);
  }
}
