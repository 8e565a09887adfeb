/** Job and pipeline statuses, named as GitLab names them. */
export const JOB_STATUSES = [
  'created',
  'waiting_for_resource',
  'preparing',
  'pending',
  'running',
  'success',
  'failed',
  'canceling',
  'canceled',
  'skipped',
  'manual',
  'scheduled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export type PipelineStatus = JobStatus;

export const COMPLETED_STATUSES: readonly JobStatus[] = ['success', 'failed', 'canceled', 'skipped'];

/** Statuses of a pipeline (or job) that is still to run or running: not completed, canceling or manual. */
export const ACTIVE_STATUSES: readonly JobStatus[] = [
  'created',
  'waiting_for_resource',
  'preparing',
  'pending',
  'running',
  'scheduled',
];

export function isCompleted(status: JobStatus): boolean {
  return COMPLETED_STATUSES.includes(status);
}

/** Failure reasons a runner may send (GitLab Runner's list) plus the coordinator's own. */
export const FAILURE_REASONS = [
  'unknown_failure',
  'script_failure',
  'api_failure',
  'stuck_or_timeout_failure',
  'runner_system_failure',
  'missing_dependency_failure',
  'runner_unsupported',
  'job_execution_timeout',
  'archived_failure',
  'unmet_prerequisites',
  'scheduler_failure',
  'data_integrity_failure',
  'image_pull_failure',
  'runner_configuration_error',
  'runner_external_dependency_failure',
  'runner_interrupted',
  'trace_size_exceeded',
  'job_token_expired',
  // Set by the coordinator: a claimed job whose project was deleted meanwhile (as GitLab).
  'project_deleted',
  // Bridges (trigger jobs), set by the coordinator.
  'downstream_pipeline_creation_failed',
  'reached_max_descendant_pipelines_depth',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export function toFailureReason(value: string | undefined): FailureReason {
  return (FAILURE_REASONS as readonly string[]).includes(value ?? '')
    ? (value as FailureReason)
    : 'unknown_failure';
}
