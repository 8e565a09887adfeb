/**
 * The `needs` graph of a pipeline from its job objects (`needs` is a Flotilla extension on GitLab's
 * job shape: the names of the jobs it needs, a parallel job's instances each by name; null for a
 * job that waits for the earlier stages).
 */
import type { Job } from './types.js';

export interface NeedEdge {
  from: Job;
  to: Job;
}

/** One edge per (needed job, job that needs it); needs naming no job here are left out. */
export function needEdges(jobs: readonly Job[]): NeedEdge[] {
  const edges: NeedEdge[] = [];
  for (const to of jobs) {
    for (const need of to.needs ?? []) {
      for (const from of jobs) if (from !== to && need === from.name) edges.push({ from, to });
    }
  }
  return edges;
}

/** True when some job of the pipeline has `needs:` (the dependencies view is then worth offering). */
export function hasNeeds(jobs: readonly Job[]): boolean {
  return jobs.some((j) => Array.isArray(j.needs));
}

/**
 * Columns for the "Job dependencies" view, as GitLab lays them out: a job with `needs:` sits one
 * column right of the last job it needs (`needs: []` in the first column); a job without `needs:`
 * one column right of every job of the earlier stages.
 */
export function dependencyColumns(jobs: readonly Job[]): Job[][] {
  const stageOrder = [...new Set(jobs.map((j) => j.stage))];
  const column = new Map<number, number>();
  const visiting = new Set<number>();
  const columnOf = (job: Job): number => {
    const known = column.get(job.id);
    if (known !== undefined) return known;
    if (visiting.has(job.id)) return 0; // a cycle cannot be created, but never loop on bad data
    visiting.add(job.id);
    const stage = stageOrder.indexOf(job.stage);
    const before = Array.isArray(job.needs)
      ? jobs.filter((other) => other !== job && job.needs?.includes(other.name))
      : jobs.filter((other) => stageOrder.indexOf(other.stage) < stage);
    const value = before.reduce((max, other) => Math.max(max, columnOf(other) + 1), 0);
    visiting.delete(job.id);
    column.set(job.id, value);
    return value;
  };
  const columns: Job[][] = [];
  for (const job of [...jobs].sort((a, b) => a.id - b.id)) {
    const c = columnOf(job);
    while (columns.length <= c) columns.push([]);
    columns[c]?.push(job);
  }
  return columns;
}
