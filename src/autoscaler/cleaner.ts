/**
 * Fleet hygiene, two age-gated reconcilers (as GitLab's hanging-droplets and zero-id cleaners):
 * - orphans: machines that exist at the provider but in no manager's state, older than a minimum
 *   age, are removed;
 * - zero ids: state entries without a provider id (a creation that was never answered), older than
 *   a limit, are removed from the state (a machine that was created anyway is an orphan above).
 * State entries whose machine is gone are forgotten by the taskscaler's own listing.
 * Both export found / removed / errors counters and log each action; `dryRun` only reports.
 */
import type { Logger } from '../shared/logger.js';
import type { AutoscalerMetrics } from './metrics.js';
import type { InstanceGroup } from './providers/provider.js';
import type { MachineRecord } from './state-store.js';

export interface CleanReport {
  orphans: { found: string[]; removed: string[]; errors: string[] };
  zeroIds: { found: number; removed: number };
}

export interface CleanOptions {
  runner: string;
  group: InstanceGroup;
  /** Keys known to any manager's state. */
  known: ReadonlySet<string>;
  zeroIds: readonly MachineRecord[];
  /** Drops zero-id entries from the state (unless dry run). */
  dropZeroIds: (drop: (r: MachineRecord) => boolean) => Promise<void> | void;
  orphanMinAgeMs: number;
  zeroIdMaxAgeMs: number;
  nowMs: number;
  dryRun: boolean;
  logger: Logger;
  metrics: AutoscalerMetrics;
}

export async function cleanFleet(o: CleanOptions): Promise<CleanReport> {
  const report: CleanReport = {
    orphans: { found: [], removed: [], errors: [] },
    zeroIds: { found: 0, removed: 0 },
  };
  const count = (cleaner: string, result: string, n: number): void => {
    if (n > 0) o.metrics.cleaner.inc({ runner: o.runner, cleaner, result }, n);
  };
  const listed: { id: string; age: number }[] = [];
  try {
    await o.group.update((i) =>
      listed.push({ id: i.id, age: i.createdAt ? o.nowMs - i.createdAt.getTime() : 0 }),
    );
  } catch (err) {
    report.orphans.errors.push(String(err));
  }
  for (const m of listed) {
    if (o.known.has(m.id) || m.age < o.orphanMinAgeMs) continue;
    report.orphans.found.push(m.id);
    o.logger.warn(
      { machine: m.id, ageSeconds: Math.round(m.age / 1000), dryRun: o.dryRun },
      'orphan machine found',
    );
  }
  count('orphan', 'found', report.orphans.found.length);
  if (!o.dryRun && report.orphans.found.length > 0) {
    try {
      report.orphans.removed = await o.group.decrease(report.orphans.found);
      for (const id of report.orphans.removed) o.logger.info({ machine: id }, 'orphan machine removed');
    } catch (err) {
      report.orphans.errors.push(String(err));
    }
    const failed = report.orphans.found.filter((id) => !report.orphans.removed.includes(id));
    for (const id of failed) report.orphans.errors.push(`${id}: not removed`);
  }
  count('orphan', 'removed', report.orphans.removed.length);
  count('orphan', 'errors', report.orphans.errors.length);
  const old = (r: MachineRecord): boolean => o.nowMs - Date.parse(r.createdAt) >= o.zeroIdMaxAgeMs;
  const stale = o.zeroIds.filter(old);
  report.zeroIds.found = stale.length;
  count('zero_id', 'found', stale.length);
  if (stale.length > 0)
    o.logger.warn({ entries: stale.length, dryRun: o.dryRun }, 'state entries without a provider id found');
  if (!o.dryRun && stale.length > 0) {
    await o.dropZeroIds(old);
    report.zeroIds.removed = stale.length;
    count('zero_id', 'removed', stale.length);
    o.logger.info({ entries: stale.length }, 'state entries without a provider id removed');
  }
  return report;
}
