/**
 * `resource_group`: at most one job of a project's resource group runs at a time. Jobs that are
 * ready wait in `waiting_for_resource`; when the group is free, the oldest waiting job is queued.
 *
 * A group can only change hands when one of its jobs changes status, and every such change
 * processes that job's pipeline, so a processing looks only at the groups its own pipeline uses
 * (none: no query at all) and lists only those groups' jobs.
 */
import type { JobRecord } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';

const WAITING = 'waiting_for_resource';
const HOLDING = new Set(['pending', 'running', 'canceling']);

function groupKey(job: JobRecord): string | null {
  return job.definition.resourceGroup ? `${job.projectId}/${job.definition.resourceGroup}` : null;
}

/** The resource groups the jobs use, per project. */
function groupsByProject(jobs: readonly JobRecord[]): Map<number, string[]> {
  const groups = new Map<number, Set<string>>();
  for (const job of jobs) {
    const group = job.definition.resourceGroup;
    if (!group) continue;
    const set = groups.get(job.projectId) ?? new Set<string>();
    set.add(group);
    groups.set(job.projectId, set);
  }
  return new Map([...groups].map(([projectId, set]) => [projectId, [...set].sort()]));
}

async function groupJobs(deps: SchedulerDeps, projectId: number, groups: string[]): Promise<JobRecord[]> {
  const { items } = await deps.store.listJobs({
    projectId,
    resourceGroups: groups,
    statuses: [WAITING, 'pending', 'running', 'canceling'],
  });
  return items;
}

/**
 * Queues the waiting jobs of the groups that `jobs` (a pipeline's) use, where the group is free;
 * returns the jobs it queued (of any pipeline of the project).
 */
export async function assignResources(deps: SchedulerDeps, jobs: readonly JobRecord[]): Promise<JobRecord[]> {
  const queued: JobRecord[] = [];
  for (const [projectId, groups] of groupsByProject(jobs)) {
    const related = await groupJobs(deps, projectId, groups);
    const waiting = related.filter((j) => j.status === WAITING);
    if (waiting.length === 0) continue;
    const busy = new Set(
      related
        .filter((j) => HOLDING.has(j.status))
        .map(groupKey)
        .filter((k): k is string => k !== null),
    );
    for (const job of waiting.sort((a, b) => a.id - b.id)) {
      const key = groupKey(job);
      if (key === null || busy.has(key)) continue;
      const updated = await deps.store.updateJob(job.id, { status: 'pending', queuedAt: deps.clock.now() }, [
        WAITING,
      ]);
      if (!updated) continue;
      busy.add(key);
      queued.push(updated);
      deps.onJobStatus?.('pending', WAITING);
    }
  }
  deps.queue.jobsQueued(queued);
  return queued;
}
