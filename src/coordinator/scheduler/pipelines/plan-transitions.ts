/**
 * Decides which `created` jobs can move on, as GitLab's pipeline processing does: a job looks at
 * its prerequisites (its `needs`, or every job of earlier stages) and their composite status.
 * Pure: returns the transitions; the caller applies them with compare-and-set updates.
 */
import type { JobStatus } from '../../../api/job-status.js';
import type { JobRecord } from '../../store/store.js';
import { compositeStatus, type StatusItem } from './composite-status.js';

export interface Transition {
  jobId: number;
  to: JobStatus;
}

function asItem(job: JobRecord): StatusItem {
  return {
    status: job.status,
    allowFailure: job.allowFailure,
    exitCode: job.exitCode,
    allowFailureExitCodes: job.definition.allowFailureExitCodes,
  };
}

function prerequisites(job: JobRecord, jobs: readonly JobRecord[]): JobRecord[] | null {
  const needs = job.definition.needs;
  if (needs === null) return jobs.filter((j) => j.stageIdx < job.stageIdx);
  const found: JobRecord[] = [];
  for (const need of needs) {
    const matches = jobs.filter((j) => j.name === need.job || j.definition.baseName === need.job);
    if (matches.length === 0 && !need.optional) return null;
    found.push(...matches);
  }
  return found;
}

/** The status a `created` job moves to once its prerequisites are done, or null to keep waiting. */
function nextStatus(job: JobRecord, prereqStatus: string | null): JobStatus | null {
  const when = job.when;
  // A bridge (trigger job) becomes pending and the coordinator then creates its child pipeline.
  const ready: JobStatus =
    job.definition.resourceGroup && !job.definition.trigger ? 'waiting_for_resource' : 'pending';
  const ok = prereqStatus === null || prereqStatus === 'success' || prereqStatus === 'skipped';
  if (ok) {
    if (when === 'on_failure') return 'skipped';
    if (when === 'manual') return 'manual';
    if (when === 'delayed') return 'scheduled';
    return ready;
  }
  if (prereqStatus === 'failed') {
    return when === 'on_failure' || when === 'always' ? ready : 'skipped';
  }
  if (prereqStatus === 'canceled') return when === 'always' ? ready : 'skipped';
  return null;
}

export function planTransitions(jobs: readonly JobRecord[]): Transition[] {
  const out: Transition[] = [];
  for (const job of jobs) {
    if (job.status !== 'created') continue;
    const prereqs = prerequisites(job, jobs);
    if (prereqs === null) {
      out.push({ jobId: job.id, to: 'skipped' });
      continue;
    }
    const to = nextStatus(job, compositeStatus(prereqs.map(asItem)));
    if (to) out.push({ jobId: job.id, to });
  }
  return out;
}

export function pipelineStatusOf(jobs: readonly JobRecord[]): ReturnType<typeof compositeStatus> {
  return compositeStatus(jobs.map(asItem));
}
