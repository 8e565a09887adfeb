/**
 * When a simulated day's jobs become pending, shared by both fleets' simulations: an unstaged job
 * (or a job of stage 0) at its `arrival`; a job of a later stage once every job of the stage
 * before it has finished (its release depends on the fleet's waits and the jobs' durations). The
 * gate also says what a Flotilla coordinator would announce: the `created` jobs of the pipelines
 * that have started (see `AnnouncedJobs` in src/autoscaler/predictive.ts).
 */
import type { AnnouncedJobs } from '../../src/autoscaler/predictive.js';
import type { WorkloadJob } from './workload.js';

interface Stage {
  jobs: number[];
  finished: number;
}

interface Pipeline {
  stages: Stage[];
  /** The highest stage whose jobs are pending (or were): the current one. */
  released: number;
}

export interface StageGate {
  /** The jobs that become pending at second `t` (not returned before), in a fixed order. */
  due(t: number): number[];
  /**
   * Job `index` finished (or failed): once every job of its stage did, the next stage's jobs are
   * returned by the next `due` call (at the same second when it comes after the finish).
   */
  finished(index: number): void;
  /** Second job `index` became pending (undefined before). */
  pendingAt(index: number): number | undefined;
  /**
   * What the coordinator announces at second `t`: the created jobs of the pipelines that have
   * started, and per such pipeline its next stage's jobs, its current stage's unfinished jobs and
   * how long the youngest of those has been pending (`stages`; a job not pending yet: 0): what a
   * coordinator reports as running, as the runner takes a job at once and then waits for a machine.
   */
  announced(t?: number): AnnouncedJobs;
}

/**
 * `pipelineOf(job)` tells the job's pipeline apart from any other in `jobs` (e.g. a day before
 * with the same pipeline numbers). `jobs` must be sorted by arrival.
 */
export function createStageGate<J extends WorkloadJob>(
  jobs: readonly J[],
  pipelineOf: (job: J) => number = (j) => j.pipeline,
): StageGate {
  const pipelines = new Map<number, Pipeline>();
  const pending = new Array<number | undefined>(jobs.length);
  const ended = new Array<boolean>(jobs.length).fill(false);
  /** Seconds the youngest unfinished job of `stage` has been pending at `t` (0 if one is not yet). */
  const youngest = (stage: Stage, t: number): number =>
    stage.jobs.reduce((m, i) => (ended[i] ? m : Math.min(m, t - (pending[i] ?? t))), Infinity);
  jobs.forEach((j, i) => {
    const key = pipelineOf(j);
    const p = pipelines.get(key) ?? { stages: [], released: 0 };
    const s = j.stage ?? 0;
    while (p.stages.length <= s) p.stages.push({ jobs: [], finished: 0 });
    p.stages[s]!.jobs.push(i);
    pipelines.set(key, p);
  });
  /** Started pipelines with stages still to release (announced jobs), keyed as `pipelines`. */
  const open = new Set<number>();
  let next = 0;
  let released: number[] = [];
  return {
    due(t) {
      const out: number[] = [];
      for (; next < jobs.length && (jobs[next]?.arrival ?? Infinity) <= t; next++)
        if ((jobs[next]?.stage ?? 0) === 0) {
          out.push(next);
          const key = pipelineOf(jobs[next]!);
          const p = pipelines.get(key)!;
          if (p.released < p.stages.length - 1) open.add(key);
        }
      const later = released;
      released = [];
      for (const i of [...out, ...later]) pending[i] = t;
      return [...out, ...later];
    },
    finished(index) {
      ended[index] = true;
      const key = pipelineOf(jobs[index]!);
      const p = pipelines.get(key)!;
      const s = p.stages[jobs[index]!.stage ?? 0]!;
      s.finished++;
      if (s.finished < s.jobs.length) return;
      const following = p.stages[p.released + 1];
      if (!following) return;
      p.released++;
      if (p.released === p.stages.length - 1) open.delete(key);
      released.push(...following.jobs);
    },
    pendingAt: (index) => pending[index],
    announced(t) {
      const a: AnnouncedJobs = { created: 0, next: 0, uncovered: 0 };
      const stages: NonNullable<AnnouncedJobs['stages']> = [];
      for (const key of open) {
        const p = pipelines.get(key)!;
        const current = p.stages[p.released]!;
        const nextJobs = p.stages[p.released + 1]?.jobs.length ?? 0;
        const unfinished = current.jobs.length - current.finished;
        a.created += p.stages.slice(p.released + 1).reduce((n, s) => n + s.jobs.length, 0);
        a.next += nextJobs;
        a.uncovered += Math.max(0, nextJobs - unfinished);
        if (t !== undefined)
          stages.push({
            next: nextJobs,
            unfinished,
            elapsedMs: unfinished > 0 ? youngest(current, t) * 1000 : 0,
          });
      }
      return t === undefined ? a : { ...a, stages };
    },
  };
}
