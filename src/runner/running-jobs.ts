/** The jobs a manager is running now, for metrics and `/debug/jobs/list`. */
import type { JobPayload } from '../api/runner-api.js';
import { formatDuration } from '../shared/duration.js';

export interface RunningJob {
  readonly id: number;
  readonly shortToken: string;
  readonly runnerName: string;
  readonly projectUrl: string;
  readonly startedAtMs: number;
  /** The build stage now running (`step_script`...), empty before the first. */
  stage: string;
  executorStage: string;
}

export function projectUrlOf(payload: JobPayload, baseUrl: string): string {
  const fromVariable = payload.variables.find((v) => v.key === 'CI_PROJECT_URL')?.value;
  return fromVariable ?? `${baseUrl}/${payload.job_info.project_full_path}`;
}

/** gitlab-runner's `/debug/jobs/list` line (X-List-Version: 2). */
export function debugJobLine(job: RunningJob, nowMs: number): string {
  const duration = formatDuration((nowMs - job.startedAtMs) / 1000);
  return `url=${job.projectUrl}/-/jobs/${job.id} state=running stage=${job.stage} executor_stage=${job.executorStage} duration=${duration}`;
}
