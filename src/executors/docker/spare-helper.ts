/**
 * A spare helper: after a job's cleanup, the docker executor factory creates and starts the helper
 * container of the next job of the same runner and project ahead of time, with a fresh builds volume
 * (and network, without network_mode). The next such job takes it over instead of creating its own,
 * which takes the helper's create and start (the storage driver's copy of the image on `vfs`) off
 * the path from pickup to the script. A spare is never used twice: the job that takes it removes it
 * with its own objects (by the spare's `spare-<hex>` job label). A job of another project or runner
 * leaves it be; the pool keeps one spare and replaces it after a job of another key. `close` (runner
 * shutdown, config change) removes it; a manager that crashed leaves it to `cleanupLeftovers`.
 */
import { randomBytes } from 'node:crypto';

import type Docker from 'dockerode';

import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { cleanupJob } from './cleanup.js';
import { attachHelper, type HelperSession } from './helper-session.js';
import * as specs from './to-container-spec.js';

export interface Spare {
  key: string;
  objects: specs.SpareObjects;
  /** The running helper, attached: the job sends its stages to it. */
  helper: HelperSession;
}

export interface SparePool {
  /** The spare made for `key`, once it is ready and still running; null when there is none. */
  take(docker: Docker, key: string): Promise<Spare | null>;
  /** Makes a spare for the next job like `spec`'s (in the background) unless one is there or coming. */
  refill(docker: Docker, spec: specs.SpecInput): void;
  /** Removes the spare and makes no more. */
  close(): Promise<void>;
}

/** Jobs whose helper would be the same but for names and labels share a key. */
export function spareKey(spec: Pick<specs.SpecInput, 'job' | 'helperImage'>): string {
  const { job, helperImage } = spec;
  return `${job.runner.shortToken}|${job.payload.job_info.project_id}|${helperImage}`;
}

function withLabel(labels: Record<string, string>, spareLabel: string): Record<string, string> {
  return { ...labels, [specs.LABEL_JOB]: spareLabel };
}

/** Creates and starts a spare for jobs like `spec`'s; on failure removes what it made and rethrows. */
export async function createSpare(docker: Docker, spec: specs.SpecInput): Promise<Spare> {
  const { job, config } = spec;
  const label = `spare-${randomBytes(6).toString('hex')}`;
  const base = `flotilla-${job.runner.shortToken.replace(/[^A-Za-z0-9_.-]/g, '_')}-project-${job.payload.job_info.project_id}-${label}`;
  const objects: specs.SpareObjects = {
    label,
    buildsVolume: `${base}-builds`,
    network: config.network_mode ? null : `${base}-network`,
  };
  const input: specs.SpecInput = { ...spec, spare: objects };
  try {
    if (objects.network)
      await docker.createNetwork({
        ...specs.networkSpec(job),
        Name: objects.network,
        Labels: withLabel(specs.jobLabels(job, 'network'), label),
      });
    await docker.createVolume({
      Name: objects.buildsVolume,
      Labels: withLabel(specs.jobLabels(job, 'builds-volume'), label),
    });
    if (!config.disable_cache && !config.cache_dir)
      await docker.createVolume(specs.volumeSpec(job, specs.jobNames(job).cacheVolume, 'cache-volume'));
    const helperSpec = specs.helperContainerSpec(input, 0);
    const helper = await docker.createContainer({
      ...helperSpec,
      name: `${base}-helper`,
      Labels: withLabel(helperSpec.Labels ?? {}, label),
    });
    await helper.start();
    return { key: spareKey(spec), objects, helper: await attachHelper(helper) };
  } catch (err) {
    await cleanupJob(docker, job.runner.shortToken, label).catch(() => undefined);
    throw err;
  }
}

async function removeSpare(docker: Docker, spare: Spare, logger: Logger): Promise<void> {
  spare.helper.close();
  const shortToken = spare.key.split('|')[0] ?? '';
  const report = await cleanupJob(docker, shortToken, spare.objects.label).catch((err: unknown) => ({
    errors: [errorMessage(err)],
  }));
  if (report.errors.length > 0)
    logger.warn({ spare: spare.objects.label, errors: report.errors }, 'spare helper not removed');
}

/**
 * The spare, when its helper still runs; attached again when only the attach ended (a connection to
 * the engine cut while it waited). Null when the helper stopped.
 */
async function stillRunning(spare: Spare): Promise<Spare | null> {
  try {
    if (!(await spare.helper.container.inspect()).State.Running) return null;
    return spare.helper.alive ? spare : { ...spare, helper: await attachHelper(spare.helper.container) };
  } catch {
    return null;
  }
}

export function createSparePool(logger: Logger): SparePool {
  let current: { key: string; docker: Docker; spare: Promise<Spare | null> } | null = null;
  let closed = false;

  function make(docker: Docker, spec: specs.SpecInput): void {
    const spare = createSpare(docker, spec).catch((err: unknown) => {
      logger.warn({ err: errorMessage(err) }, 'spare helper not created');
      return null;
    });
    current = { key: spareKey(spec), docker, spare };
  }

  function discard(entry: NonNullable<typeof current>): Promise<void> {
    return entry.spare.then((s) => (s ? removeSpare(entry.docker, s, logger) : undefined));
  }

  return {
    async take(docker, key) {
      if (!current || current.key !== key || current.docker !== docker) return null;
      const entry = current;
      current = null;
      const spare = await entry.spare;
      if (!spare) return null;
      const live = await stillRunning(spare);
      if (live) return live;
      await removeSpare(docker, spare, logger);
      return null;
    },
    refill(docker, spec) {
      if (closed) return;
      if (current && current.key === spareKey(spec) && current.docker === docker) return;
      if (current) void discard(current);
      make(docker, { ...spec, spare: undefined });
    },
    async close() {
      closed = true;
      const entry = current;
      current = null;
      if (entry) await discard(entry);
    },
  };
}
