/**
 * Artifact transfer with a job token, as gitlab-runner's helper does it: upload as multipart part
 * `file` to `POST /api/v4/jobs/:id/artifacts`, download a dependency's archive from
 * `GET /api/v4/jobs/:id/artifacts`.
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

import { HEADER_JOB_TOKEN, RUNNER_API_PREFIX } from '../../api/runner-api.js';

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
}

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
  const form = new FormData();
  form.append('file', await openAsBlob(options.file), options.filename);
  const url = `${options.baseUrl}${RUNNER_API_PREFIX}/jobs/${options.jobId}/artifacts?${query.toString()}`;
  const res = await (options.fetch ?? fetch)(url, {
    method: 'POST',
    headers: { [HEADER_JOB_TOKEN]: options.jobToken },
    body: form,
  });
  await res.arrayBuffer().catch(() => undefined);
  return { status: res.status, statusText: res.statusText };
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
  if (res.status === 200 && res.body) {
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      createWriteStream(options.destination),
    );
  } else {
    await res.arrayBuffer().catch(() => undefined);
  }
  return { status: res.status, statusText: res.statusText };
}
