/**
 * A clairvoyant idle pool, for the bench only: it knows the day's future arrivals and their
 * durations (no causal policy does) and keeps exactly the idle slots that the jobs arriving within
 * the next `lead` seconds need, given the machines that running jobs free before then. Run through
 * the same simulation as Flotilla's policy (the real taskscaler with its plain idle_count policy,
 * set every second, and idle_time 0), it bounds what any pool policy can reach on a day: machines
 * are asked for `lead` seconds before the jobs that use them arrive, and an idle machine goes as
 * soon as no job arriving within `lead` needs it (a new one could boot in time for the next).
 */
import type { WorkloadJob } from './workload.js';

export type KnownJob = Pick<WorkloadJob, 'arrival' | 'duration'>;

/**
 * The idle slots needed at second `t`: the most machines the jobs arriving in (t, t + lead] hold
 * at once, less the machines the jobs that arrived up to t free by then (`busyUntil`: until when
 * each holds or will hold its machine; times ≤ t are ignored). A machine freed at a second serves
 * a job arriving in that second. `arriving` must hold the jobs with arrival in (t, t + lead], in
 * any order. PURE.
 */
export function slotsNeeded(
  arriving: readonly KnownJob[],
  busyUntil: readonly number[],
  t: number,
  lead: number,
): number {
  const horizon = t + lead;
  const events: [number, number][] = [];
  for (const j of arriving) {
    events.push([j.arrival, 1]);
    if (j.arrival + j.duration <= horizon) events.push([j.arrival + j.duration, -1]);
  }
  for (const end of busyUntil) if (end > t && end <= horizon) events.push([end, -1]);
  // Releases before arrivals in the same second.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let held = 0;
  let most = 0;
  for (const [, step] of events) {
    held += step;
    most = Math.max(most, held);
  }
  return most;
}

/**
 * The clairvoyant pool for one day: called with increasing seconds `t` (as the simulation's loop
 * does), it returns `slotsNeeded` over the day's jobs arriving in (t, t + lead].
 */
export function createClairvoyant(
  jobs: readonly KnownJob[],
  lead: number,
): (t: number, busyUntil: readonly number[]) => number {
  const sorted = [...jobs].sort((a, b) => a.arrival - b.arrival);
  let first = 0;
  let last = 0;
  return (t, busyUntil) => {
    while (first < sorted.length && sorted[first]!.arrival <= t) first++;
    last = Math.max(last, first);
    while (last < sorted.length && sorted[last]!.arrival <= t + lead) last++;
    return slotsNeeded(sorted.slice(first, last), busyUntil, t, lead);
  };
}
