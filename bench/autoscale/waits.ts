/** Per-hour and per-job views of a simulated day's waits and decisions (the autoscale part prints them). */
import type { FleetRun } from './taskscaler-sim.js';

/** Jobs that waited more than `limit` s, by the hour they arrived. PURE. */
export function longWaitsByHour(r: Pick<FleetRun, 'waits' | 'arrivals'>, limit = 56): number[] {
  const hours = new Array<number>(24).fill(0);
  r.waits.forEach((w, i) => {
    const h = Math.floor((r.arrivals[i] ?? 0) / 3600) % 24;
    if (w > limit) hours[h] = (hours[h] ?? 0) + 1;
  });
  return hours;
}

/** Decisions of one action (`create`, `remove`) per hour, all reasons summed. PURE. */
export function actionsByHour(byHour: readonly Record<string, number>[], action: string): number[] {
  return byHour.map((h) =>
    Object.entries(h)
      .filter(([k]) => k.startsWith(`${action}:`))
      .reduce((a, [, v]) => a + v, 0),
  );
}

/** Jobs that found no ready idle slot on arrival, and of those the ones that waited > `limit` s. PURE. */
export function withoutReadySlot(
  r: Pick<FleetRun, 'waits' | 'noReadySlot'>,
  limit: number,
): [number, number] {
  let jobs = 0;
  let late = 0;
  r.noReadySlot?.forEach((none, i) => {
    if (!none) return;
    jobs++;
    if ((r.waits[i] ?? 0) > limit) late++;
  });
  return [jobs, late];
}
