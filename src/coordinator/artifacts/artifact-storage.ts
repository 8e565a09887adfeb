/**
 * Artifacts on the local file system under one root: `<root>/<job id>/<type>-<file name>`.
 * Writes go to a temporary file renamed into place, so a reader never sees half a file.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { FlotillaError } from '../../shared/errors.js';

export class ArtifactStorage {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  keyFor(jobId: number, fileType: string, filename: string): string {
    const safe = path.basename(filename).replace(/[^A-Za-z0-9._-]/g, '_') || 'artifacts.zip';
    return `${jobId}/${fileType}-${safe}`;
  }

  #path(key: string): string {
    const full = path.resolve(this.#root, key);
    if (!full.startsWith(path.resolve(this.#root) + path.sep)) {
      throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'invalid artifact key');
    }
    return full;
  }

  /** Streams `source` into storage; fails with FLO_ERR_PAYLOAD_TOO_LARGE past `maxBytes`. Returns the size. */
  async write(key: string, source: Readable, maxBytes: number): Promise<number> {
    const target = this.#path(key);
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    let size = 0;
    const limiter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > maxBytes) {
          cb(new FlotillaError('FLO_ERR_PAYLOAD_TOO_LARGE', `artifact is larger than ${maxBytes} bytes`));
          return;
        }
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source, limiter, createWriteStream(tmp));
      await rename(tmp, target);
      return size;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** The stored file's path on this host (to inspect an upload before it is recorded). */
  localPath(key: string): string {
    return this.#path(key);
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.#path(key))).isFile();
    } catch {
      return false;
    }
  }

  read(key: string): Readable {
    return createReadStream(this.#path(key));
  }

  /** Removes one stored file; a missing file is fine. */
  async remove(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  /** Removes every file of these jobs (their `<job id>/` folders); missing ones are fine. */
  async removeJobs(jobIds: readonly number[]): Promise<void> {
    for (const id of jobIds) await rm(this.#path(String(id)), { recursive: true, force: true });
  }
}
