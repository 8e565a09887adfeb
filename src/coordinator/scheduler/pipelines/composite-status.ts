/**
 * GitLab's composite status: the status of a pipeline (or of a job's prerequisites) derived from
 * its jobs. Failed, canceled or manual jobs that are allowed to fail are "ignored".
 */
import type { JobStatus, PipelineStatus } from '../../../api/job-status.js';

export interface StatusItem {
  status: JobStatus;
  allowFailure: boolean;
  exitCode?: number | null;
  allowFailureExitCodes?: number[];
}

type Key = JobStatus | 'ignored';

function keyOf(item: StatusItem): Key {
  const allowed =
    item.allowFailure ||
    (item.status === 'failed' &&
      item.exitCode != null &&
      (item.allowFailureExitCodes ?? []).includes(item.exitCode));
  if (allowed && (item.status === 'failed' || item.status === 'canceled' || item.status === 'manual')) {
    return 'ignored';
  }
  return item.status;
}

/** Returns null for an empty list. */
export function compositeStatus(items: StatusItem[]): PipelineStatus | null {
  if (items.length === 0) return null;
  const keys = new Set(items.map(keyOf));
  const only = (...allowed: Key[]): boolean => [...keys].every((k) => allowed.includes(k));
  const any = (...wanted: Key[]): boolean => wanted.some((k) => keys.has(k));

  if (only('skipped', 'ignored')) return 'skipped';
  if (only('success', 'skipped', 'ignored')) return 'success';
  if (only('created', 'ignored')) return 'created';
  if (only('preparing', 'ignored')) return 'preparing';
  if (only('canceled', 'success', 'skipped', 'ignored')) return 'canceled';
  if (only('pending', 'created', 'skipped', 'ignored')) return 'pending';
  if (any('running', 'pending')) return 'running';
  if (any('waiting_for_resource')) return 'waiting_for_resource';
  if (any('manual')) return 'manual';
  if (any('scheduled')) return 'scheduled';
  if (any('preparing')) return 'preparing';
  if (any('created')) return 'running';
  if (any('canceling')) return 'canceling';
  return 'failed';
}
