/** The autoscale part's staged-pipeline days and what Flotilla's `announced_jobs` does on them. */
import type { AnnouncedMode } from '../../src/autoscaler/predictive.js';
import { stageWorkload } from '../autoscale/workload.js';
import type { Day } from './autoscale.js';

/** Seeds of the stage draws: the day's workload seed + this (its day before: + this + 100). */
const STAGE_SEED = 1000;

/**
 * Staged variants of the normal, flat, spiky and slow days (`--days staged-normal,...`; not in the
 * default run): the same jobs and durations, grouped into stages (`stageWorkload`), the day before
 * too. A later stage's jobs are pending only once their previous stage finished.
 */
export function stagedDays(unstaged: readonly Day[]): Day[] {
  return unstaged
    .filter((d) => d.name !== 'outage')
    .map((d) => ({
      ...d,
      name: `staged-${d.name}`,
      label: `${d.label}, staged pipelines`,
      jobs: stageWorkload(d.jobs, d.seed + STAGE_SEED),
      yesterday: stageWorkload(d.yesterday, d.seed + STAGE_SEED + 100),
      staged: true,
    }));
}

/** What Flotilla's announced_jobs holds slots for on the staged days (`--announced MODE`). */
export const ANNOUNCED_DEFAULT: AnnouncedMode = 'uncovered';

/**
 * The `[runners.autoscaler.predictive]` keys a mode runs with on the staged days: `due` with
 * `announced_reserve` (the forecast leaves out the releases next stages take), its due lead and
 * keep at their defaults. PURE.
 */
export function announcedSetting(mode: AnnouncedMode): {
  announced_jobs: AnnouncedMode;
  announced_reserve?: boolean;
} {
  return mode === 'due' ? { announced_jobs: mode, announced_reserve: true } : { announced_jobs: mode };
}
