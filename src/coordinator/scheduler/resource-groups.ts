/**
 * `resource_group`: at most one job of a project's resource group runs at a time. Jobs that are
 * ready wait in `waiting_for_resource`; when the group is free, the oldest waiting job is queued.
 */
import type { JobRecord } from '../store/store.js';
import type { SchedulerDeps } from './deps.js';

const HOLDING = new Set(['pending', 'running', 'canceling']);

function groupKey(job: JobRecord): string | null {
  return job.definition.resourceGroup ? `${job.projectId}/${job.definition.resourceGroup}` : null;
}

/** Queues waiting jobs whose group is free; returns the jobs it queued. */
export async function assignResources(deps: SchedulerDeps): Promise<JobRecord[]> {
  const { items: waiting } = await deps.store.listJobs({ statuses: ['waiting_for_resource'] });
  if (waiting.length === 0) return [];
  const { items: active } = await deps.store.listJobs({ statuses: ['pending', 'running', 'canceling'] });
  const busy = new Set(
    active
      .filter((j) => HOLDING.has(j.status))
      .map(groupKey)
      .filter((k): k is string => k !== null),
  );
  const queued: JobRecord[] = [];
  for (const job of [...waiting].sort((a, b) => a.id - b.id)) {
    const key = groupKey(job);
    if (key === null || busy.has(key)) continue;
    const updated = await deps.store.updateJob(job.id, { status: 'pending', queuedAt: deps.clock.now() }, [
      'waiting_for_resource',
    ]);
    if (!updated) continue;
    busy.add(key);
    queued.push(updated);
    deps.onJobStatus?.('pending', 'waiting_for_resource');
  }
  deps.queue.jobsQueued(queued);
  return queued;
}
