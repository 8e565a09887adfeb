/**
 * What happens when a job ends, beyond its status: `coverage` is read from its log, and a failed
 * job with `retry` is retried automatically (GitLab's `retry:max`, `retry:when`, `retry:exit_codes`).
 */
import { compileRegex } from '../../../pipeline/re2.js';
import { stripTimestampHeader } from '../../../shared/log-timestamps.js';
import type { JobRecord } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import { retryJobs } from './job-actions.js';

const COVERAGE_SCAN_BYTES = 4 * 1024 * 1024;
const MAX_LINE = 10_000;

/** Start of the last match of `test` in `line` (a match starting at i makes every suffix from ≤ i match). */
function lastMatchStart(line: string, test: (text: string) => boolean): number {
  let lo = 0;
  let hi = line.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (test(line.slice(mid))) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * GitLab's rule: the first number of the last match in the log, where a pattern with a capture
 * group counts its (last) group as the match, e.g. pytest-cov's `TOTAL.+ ([0-9]{1,3}%)`. The
 * matcher is RE2-safe and only answers match/no-match, so the match is located by its start and
 * a capturing pattern takes the last number from there. A line's runner timestamp header
 * (FF_TIMESTAMPS) is not part of it, as in GitLab.
 */
export function extractCoverage(trace: string, pattern: string): number | null {
  const m = /^\/(.*)\/([a-zA-Z]*)$/s.exec(pattern);
  let regex;
  try {
    regex = compileRegex(m ? (m[1] ?? '') : pattern, m ? (m[2] ?? '').replace(/[^ims]/g, '') : '');
  } catch {
    return null;
  }
  const lines = trace.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = stripTimestampHeader(lines[i] ?? '').slice(0, MAX_LINE);
    if (!regex.test(line)) continue;
    const numbers = line.slice(lastMatchStart(line, (t) => regex.test(t))).match(/\d+(?:\.\d+)?/g) ?? [];
    const number = hasCaptureGroup(pattern) ? numbers[numbers.length - 1] : numbers[0];
    if (number !== undefined) return Number(number);
  }
  return null;
}

function hasCaptureGroup(pattern: string): boolean {
  return /(^|[^\\])\((?!\?)/.test(pattern);
}

async function recordCoverage(deps: SchedulerDeps, job: JobRecord): Promise<void> {
  const pattern = job.definition.coverageRegex;
  if (!pattern) return;
  const offset = Math.max(0, job.traceSize - COVERAGE_SCAN_BYTES);
  const trace = (await deps.store.readTrace(job.id, offset)).toString('utf8');
  const coverage = extractCoverage(trace, pattern);
  if (coverage === null) return;
  await deps.store.updateJob(job.id, { coverage });
  deps.logger.info({ jobId: job.id, coverage }, 'coverage recorded');
}

async function attempts(deps: SchedulerDeps, job: JobRecord): Promise<number> {
  let count = 0;
  let current: JobRecord | null = job;
  while (current?.retryOfId) {
    count++;
    current = await deps.store.getJob(current.retryOfId);
  }
  return count;
}

function retryWanted(job: JobRecord): boolean {
  const { retry } = job.definition;
  if (job.status !== 'failed' || retry.max <= 0) return false;
  const reason = job.failureReason ?? 'unknown_failure';
  const when = retry.when.length === 0 ? ['always'] : retry.when;
  if (!when.includes('always') && !when.includes(reason)) return false;
  if (retry.exitCodes.length > 0 && (job.exitCode === null || !retry.exitCodes.includes(job.exitCode)))
    return false;
  return true;
}

/** Runs after a job reached a final status; returns the automatic retry when one was created. */
export async function afterFinish(deps: SchedulerDeps, job: JobRecord): Promise<JobRecord | null> {
  await recordCoverage(deps, job);
  if (!retryWanted(job) || (await attempts(deps, job)) >= job.definition.retry.max) return null;
  const [retried] = await retryJobs(deps, [job], job.userId);
  deps.logger.info(
    { jobId: job.id, retryJobId: retried?.id, reason: job.failureReason },
    'job retried automatically',
  );
  return retried ?? null;
}
