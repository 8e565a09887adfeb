/**
 * Removing what jobs created, found by labels: a finished job's containers, network and volumes
 * (`cleanupJob`), and everything a crashed manager left behind (`cleanupLeftovers`, called at manager
 * start). Per-project cache volumes carry no job label and are kept, except by `cleanupRunner` (a
 * throwaway runner, e.g. `flotilla run`'s, removes everything it made).
 */
import type Docker from 'dockerode';

import { errorMessage } from '../../shared/errors.js';
import { removeContainer, statusOf } from './docker-client.js';
import { LABEL_JOB, LABEL_MANAGED, LABEL_RUNNER } from './to-container-spec.js';

export interface CleanupReport {
  containers: number;
  networks: number;
  volumes: number;
  errors: string[];
}

async function removeAll(docker: Docker, labels: string[]): Promise<CleanupReport> {
  const filters = JSON.stringify({ label: labels });
  const report: CleanupReport = { containers: 0, networks: 0, volumes: 0, errors: [] };
  const note = (what: string) => (err: unknown) => {
    if (statusOf(err) !== 404) report.errors.push(`${what}: ${errorMessage(err)}`);
  };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      removeContainer(docker.getContainer(c.Id)).then(
        () => void report.containers++,
        note(`container ${c.Names[0] ?? c.Id}`),
      ),
    ),
  );
  for (const n of await docker.listNetworks({ filters })) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .then(() => void report.networks++, note(`network ${n.Name}`));
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of Volumes ?? []) {
    await docker
      .getVolume(v.Name)
      .remove()
      .then(() => void report.volumes++, note(`volume ${v.Name}`));
  }
  return report;
}

/** Removes one job's containers, network and volumes (or a spare helper's: its `spare-<hex>` label). */
export function cleanupJob(
  docker: Docker,
  runnerShortToken: string,
  jobId: number | string,
): Promise<CleanupReport> {
  return removeAll(docker, [
    `${LABEL_MANAGED}=true`,
    `${LABEL_RUNNER}=${runnerShortToken}`,
    `${LABEL_JOB}=${jobId}`,
  ]);
}

/** At manager start: removes every job object of this runner that a previous run left behind. */
export function cleanupLeftovers(docker: Docker, runnerShortToken: string): Promise<CleanupReport> {
  return removeAll(docker, [`${LABEL_MANAGED}=true`, `${LABEL_RUNNER}=${runnerShortToken}`, LABEL_JOB]);
}

/** Removes every object of this runner, per-project cache volumes included (a throwaway runner). */
export function cleanupRunner(docker: Docker, runnerShortToken: string): Promise<CleanupReport> {
  return removeAll(docker, [`${LABEL_MANAGED}=true`, `${LABEL_RUNNER}=${runnerShortToken}`]);
}
