/**
 * Artifact transfer with a job token, as gitlab-runner's helper does it: upload as multipart part
 * `file` to `POST /api/v4/jobs/:id/artifacts`, download a dependency's archive from
 * `GET /api/v4/jobs/:id/artifacts`.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, openAsBlob } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

import { HEADER_JOB_TOKEN, RUNNER_API_PREFIX } from '../../api/runner-api.js';
import { nodeBodyOf } from '../../shared/node-body.js';

export interface UploadArtifactOptions {
  baseUrl: string;
  jobId: number;
  jobToken: string;
  file: string;
  filename: string;
  artifactType: string;
  artifactFormat: string;
  expireIn: string | null;
  /** The HTTP client (default: the global fetch). */
  fetch?: typeof fetch;
  /**
   * Send the multipart body as one buffer built here rather than a streamed `FormData`, for an
   * archive of at most BUFFERED_UPLOAD_MAX bytes (larger ones are streamed as before). Meant for
   * an in-process client (`flotilla run`): the same bytes on the wire as `FormData` gives, without
   * loading the global fetch's implementation nor reading the file through a Blob stream.
   */
  bufferBody?: boolean;
}

/** The largest archive `bufferBody` reads into memory. */
export const BUFFERED_UPLOAD_MAX = 64 * 1024 * 1024;

export interface TransferResult {
  status: number;
  statusText: string;
}

export async function uploadArtifact(options: UploadArtifactOptions): Promise<TransferResult> {
  const query = new URLSearchParams({
    artifact_format: options.artifactFormat,
    artifact_type: options.artifactType,
  });
  if (options.expireIn) query.set('expire_in', options.expireIn);
  const url = `${options.baseUrl}${RUNNER_API_PREFIX}/jobs/${options.jobId}/artifacts?${query.toString()}`;
  const headers: Record<string, string> = { [HEADER_JOB_TOKEN]: options.jobToken };
  let body: FormData | Buffer;
  if (options.bufferBody === true && (await stat(options.file)).size <= BUFFERED_UPLOAD_MAX) {
    const boundary = `----formdata-flotilla-${randomBytes(16).toString('hex')}`;
    headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
    body = multipartFileBody(boundary, options.filename, await readFile(options.file));
  } else {
    body = new FormData();
    body.append('file', await openAsBlob(options.file), options.filename);
  }
  const res = await (options.fetch ?? fetch)(url, { method: 'POST', headers, body });
  await res.arrayBuffer().catch(() => undefined);
  return { status: res.status, statusText: res.statusText };
}

/**
 * A `multipart/form-data` body of one file part named `file`, as `FormData` encodes it (the file
 * name's `"`, CR and LF percent-encoded; a Blob without a type sent as application/octet-stream).
 */
export function multipartFileBody(boundary: string, filename: string, content: Buffer): Buffer {
  const name = filename.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  return Buffer.concat([Buffer.from(head), content, Buffer.from(`\r\n--${boundary}--\r\n`)]);
}

export interface DownloadArtifactOptions {
  baseUrl: string;
  jobId: number;
  jobToken: string;
  destination: string;
  /** The HTTP client (default: the global fetch). */
  fetch?: typeof fetch;
}

export async function downloadArtifact(options: DownloadArtifactOptions): Promise<TransferResult> {
  const url = `${options.baseUrl}${RUNNER_API_PREFIX}/jobs/${options.jobId}/artifacts`;
  const res = await (options.fetch ?? fetch)(url, { headers: { [HEADER_JOB_TOKEN]: options.jobToken } });
  const own = res.status === 200 ? nodeBodyOf(res) : undefined;
  if (own) {
    await pipeline(own, createWriteStream(options.destination));
  } else if (res.status === 200 && res.body) {
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      createWriteStream(options.destination),
    );
  } else {
    await res.arrayBuffer().catch(() => undefined);
  }
  return { status: res.status, statusText: res.statusText };
}
