/**
 * The `download_artifacts` and `upload_artifacts_on_*` stages for executors whose helper work runs
 * on this host: fetch each dependency's archive with its token and extract it into the project
 * directory; zip each matching `artifacts:` entry and upload it with the job token.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { JobArtifactSpec, JobPayload } from '../../api/runner-api.js';
import { errorMessage } from '../../shared/errors.js';
import type { JobOutcome, JobOutput } from '../executor.js';
import { downloadArtifact, uploadArtifact } from './client.js';
import { collectArtifactFiles } from './collect.js';
import { extractZip, writeZip } from './zip.js';

const YELLOW = '\x1b[0;33m';
const RED = '\x1b[31;1m';
const RESET = '\x1b[0;m';

export interface ArtifactStageOptions {
  payload: JobPayload;
  baseUrl: string;
  projectDir: string;
  tmpDir: string;
  output: JobOutput;
  /** Deflate uploaded archives (default true; see WriteZipOptions.compress). */
  compress?: boolean;
  /**
   * The HTTP client of uploads and downloads (default: the global fetch), such as `flotilla
   * run`'s in-process one; a download's body is streamed to disk, so it should stream answers.
   */
  fetch?: typeof fetch;
  /** Upload each archive's multipart body as one buffer (see UploadArtifactOptions.bufferBody). */
  bufferUploads?: boolean;
}

/** The entries of `artifacts:` that apply for a job ending with `outcome`. */
export function artifactsFor(payload: JobPayload, outcome: JobOutcome): JobArtifactSpec[] {
  const wanted = outcome === 'success' ? 'on_success' : 'on_failure';
  return payload.artifacts.filter((a) => a.when === 'always' || a.when === wanted);
}

export async function downloadDependencies(options: ArtifactStageOptions): Promise<number> {
  const { payload, output } = options;
  for (const dep of payload.dependencies) {
    if (!dep.artifacts_file?.filename) continue;
    output.write(`Downloading artifacts for ${dep.name} (${dep.id})...\n`);
    const file = join(options.tmpDir, `dependency-${dep.id}.zip`);
    try {
      const result = await downloadArtifact({
        baseUrl: options.baseUrl,
        jobId: dep.id,
        jobToken: dep.token,
        destination: file,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      output.write(
        `Downloading artifacts from coordinator... ${result.status === 200 ? 'ok' : 'failed'}  id=${dep.id} responseStatus=${result.status} ${result.statusText}\n`,
      );
      if (result.status !== 200) return 1;
      await extractZip(file, options.projectDir, {
        onSkip: (name, reason) => output.write(`${YELLOW}WARNING: ${name}: skipped, ${reason}${RESET}\n`),
      });
    } catch (err) {
      output.write(
        `${RED}ERROR: Downloading artifacts for ${dep.name} (${dep.id}) failed: ${errorMessage(err)}${RESET}\n`,
      );
      return 1;
    } finally {
      await rm(file, { force: true });
    }
  }
  return 0;
}

async function uploadOne(options: ArtifactStageOptions, spec: JobArtifactSpec): Promise<number> {
  const { output, payload } = options;
  if (spec.artifact_format !== 'zip') {
    output.write(
      `${YELLOW}WARNING: ${spec.artifact_type} artifacts in ${spec.artifact_format} format are not supported yet; skipped${RESET}\n`,
    );
    return 0;
  }
  const files = await collectArtifactFiles(options.projectDir, spec);
  if (files.length === 0) {
    output.write(`${YELLOW}WARNING: ${spec.paths.join(', ') || 'untracked'}: no matching files${RESET}\n`);
    output.write(`${RED}ERROR: No files to upload${RESET}\n`);
    return 0;
  }
  output.write(`${files.length} file(s) found matching the artifact paths\n`);
  const name = spec.name || 'artifacts';
  const file = join(options.tmpDir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.zip`);
  try {
    await writeZip(options.projectDir, files, file, { compress: options.compress !== false });
    const result = await uploadArtifact({
      baseUrl: options.baseUrl,
      jobId: payload.id,
      jobToken: payload.token,
      file,
      filename: `${name}.zip`,
      artifactType: spec.artifact_type || 'archive',
      artifactFormat: 'zip',
      expireIn: spec.expire_in,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.bufferUploads === true ? { bufferBody: true } : {}),
    });
    output.write(
      `Uploading artifacts to coordinator... ${result.status} ${result.statusText}  id=${payload.id} responseStatus=${result.status} ${result.statusText}\n`,
    );
    return result.status === 201 || result.status === 200 ? 0 : 1;
  } catch (err) {
    output.write(`${RED}ERROR: Uploading artifacts to coordinator failed: ${errorMessage(err)}${RESET}\n`);
    return 1;
  } finally {
    await rm(file, { force: true });
  }
}

export async function uploadArtifacts(options: ArtifactStageOptions, outcome: JobOutcome): Promise<number> {
  for (const spec of artifactsFor(options.payload, outcome)) {
    const code = await uploadOne(options, spec);
    if (code !== 0) return code;
  }
  return 0;
}
