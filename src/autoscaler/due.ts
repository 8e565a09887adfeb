/**
 * When announced jobs are due (`announced_jobs = "due"`): a pipeline's next stage becomes pending
 * once every unfinished job of its current stage has finished. The coordinator says, per pipeline,
 * how many jobs its next stage has, how many of its current stage are unfinished and how long the
 * youngest of those has run (`AnnouncedStage`; one still pending: 0); the manager knows the
 * durations of the jobs it ran. A job that has run for `e` ms, whose duration follows the measured
 * ones, ends within the next `h` ms with probability P(D ≤ e + h | D > e); the stage ends when all
 * its unfinished jobs did (taken as independent, each as old as the youngest). PURE, no clock.
 */
import type { AnnouncedJobs, AnnouncedStage } from '../api/announced-jobs.js';

/** Index of the first value > x in an ascending list. */
function firstAbove(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? 0) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * P(a job that has run for `elapsedMs` ends within the next `horizonMs`), from measured durations
 * (ascending): the share of the durations longer than `elapsedMs` that end by `elapsedMs +
 * horizonMs`. With no duration measured, or none longer than `elapsedMs` (the job runs longer than
 * any seen), 1: the job may end any time. PURE.
 */
export function endsWithin(sorted: readonly number[], elapsedMs: number, horizonMs: number): number {
  const alive = sorted.length - firstAbove(sorted, elapsedMs);
  if (alive === 0) return 1;
  const stillAlive = sorted.length - firstAbove(sorted, elapsedMs + horizonMs);
  return 1 - stillAlive / alive;
}

/** P(stage `s`'s unfinished jobs have all ended within `horizonMs`). PURE. */
export function stageEndsWithin(sorted: readonly number[], s: AnnouncedStage, horizonMs: number): number {
  if (s.unfinished <= 0) return 1;
  return endsWithin(sorted, s.elapsedMs, horizonMs) ** s.unfinished;
}

/** A stage's next-stage jobs that its unfinished jobs' machines will not serve. PURE. */
export function uncoveredOf(s: AnnouncedStage): number {
  return Math.max(0, s.next - s.unfinished);
}

/**
 * The uncovered announced jobs expected to be pending within `horizonMs`: per pipeline, its
 * uncovered next-stage jobs times the probability that its current stage ends by then, summed and
 * rounded up (a part of a job is a slot). PURE.
 */
export function uncoveredDueWithin(
  stages: readonly AnnouncedStage[],
  sorted: readonly number[],
  horizonMs: number,
): number {
  let expected = 0;
  for (const s of stages) {
    const u = uncoveredOf(s);
    if (u > 0) expected += u * stageEndsWithin(sorted, s, horizonMs);
  }
  return Math.max(0, Math.ceil(expected - 1e-9));
}

/**
 * Running or pending jobs whose machines their pipeline's next stage will take (per pipeline, the
 * fewer of its next stage's jobs and its current stage's unfinished ones, summed: `next` less
 * `uncovered`): their release frees no slot for other jobs. PURE.
 */
export function coveredSlots(a: Pick<AnnouncedJobs, 'next' | 'uncovered'>): number {
  return Math.max(0, a.next - a.uncovered);
}
