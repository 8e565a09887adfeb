import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { GitHostContext } from './context.js';
import { queryString } from './cgi-env.js';
import {
  answerLsRefs,
  parseLsRefsRequest,
  type UploadPackInfo,
  type UploadPackInfoCache,
} from './upload-pack-v2.js';

/**
 * Protocol v2 upload-pack requests answered without `git http-backend`: `GET info/refs` (the
 * capability advertisement) and `POST git-upload-pack` carrying `ls-refs`. Headers are those
 * http-backend writes. Every other request (v0/v1, `fetch`, a compressed body, a repository whose
 * config changes `ls-refs`) goes to http-backend as before.
 */

/** Headers http-backend writes on every smart HTTP answer. */
const NO_CACHE_HEADERS = {
  Expires: 'Fri, 01 Jan 1980 00:00:00 GMT',
  Pragma: 'no-cache',
  'Cache-Control': 'no-cache, max-age=0, must-revalidate',
};

/** A request body read so far, for http-backend when this module does not answer. */
const MAX_BUFFERED_BODY = 64 * 1024;

export interface V2Deps {
  ctx: GitHostContext;
  uploadPack: UploadPackInfoCache;
}

/** Answered here, or the request body http-backend must read instead of `req` (if any was read). */
export type V2Outcome = { answered: true } | { answered: false; body?: Readable };

export async function serveUploadPackV2(
  deps: V2Deps,
  dir: string,
  req: IncomingMessage,
  res: ServerResponse,
  pathInfo: string,
): Promise<V2Outcome> {
  if (req.headers['git-protocol'] !== 'version=2') return { answered: false };
  if (req.method === 'GET' && pathInfo === '/info/refs' && isUploadPackQuery(req)) {
    const info = await infoOrNull(deps, dir);
    if (!info) return { answered: false };
    send(res, 'application/x-git-upload-pack-advertisement', info.advertisement);
    return { answered: true };
  }
  if (!isPlainUploadPackPost(req, pathInfo)) return { answered: false };
  const read = await readBody(req, MAX_BUFFERED_BODY, deps.ctx.httpTimeoutMs);
  const rest = (): V2Outcome => ({ answered: false, body: replay(req, read) });
  if (!read.ended) return rest();
  const info = await infoOrNull(deps, dir);
  const request = info?.lsRefsHere ? parseLsRefsRequest(read.head, info) : null;
  const answer = request && (await answerLsRefs(deps.ctx, dir, request).catch(() => null));
  if (!answer) return rest();
  send(res, 'application/x-git-upload-pack-result', answer);
  return { answered: true };
}

/** Any failure here leaves the request to http-backend, which answers (or fails) as before. */
function infoOrNull(deps: V2Deps, dir: string): Promise<UploadPackInfo | null> {
  return deps.uploadPack.get(deps.ctx, dir).catch(() => null);
}

function isUploadPackQuery(req: IncomingMessage): boolean {
  return new URLSearchParams(queryString(req.url ?? '')).get('service') === 'git-upload-pack';
}

function isPlainUploadPackPost(req: IncomingMessage, pathInfo: string): boolean {
  return (
    req.method === 'POST' &&
    pathInfo === '/git-upload-pack' &&
    req.headers['content-type'] === 'application/x-git-upload-pack-request' &&
    req.headers['content-encoding'] === undefined
  );
}

function send(res: ServerResponse, contentType: string, body: Buffer): void {
  res.writeHead(200, { ...NO_CACHE_HEADERS, 'Content-Type': contentType });
  res.end(body);
}

interface ReadBody {
  head: Buffer;
  /** True when `head` is the whole body. */
  ended: boolean;
}

/**
 * Reads the body until it ends, `limit` bytes came or `timeoutMs` passed; the rest stays unread in
 * `req`. A body that stalls goes to http-backend as it is, whose own timeout then answers it.
 */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      stop();
      req.pause();
      resolve({ head: Buffer.concat(chunks), ended: false });
    }, timeoutMs);
    const stop = (): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size < limit) return;
      stop();
      req.pause();
      resolve({ head: Buffer.concat(chunks), ended: false });
    };
    const onEnd = (): void => {
      stop();
      resolve({ head: Buffer.concat(chunks), ended: true });
    };
    const onError = (err: Error): void => {
      stop();
      reject(err);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** The whole body again: what was read, then the rest of `req`. */
function replay(req: IncomingMessage, read: ReadBody): Readable {
  const body = new PassThrough();
  body.write(read.head);
  if (read.ended) body.end();
  else req.pipe(body);
  return body;
}
