/** Failure reasons as gitlab-runner maps them against the job's `features.failure_reasons`. */

export type RunnerFailureReason =
  | 'script_failure'
  | 'runner_system_failure'
  | 'job_execution_timeout'
  | 'runner_interrupted'
  | 'job_canceled'
  | 'unknown_failure';

const ALWAYS_SUPPORTED = new Set(['script_failure', 'runner_system_failure', 'job_execution_timeout']);
const COMPAT: Record<string, string> = {
  image_pull_failure: 'runner_system_failure',
  runner_configuration_error: 'script_failure',
  runner_external_dependency_failure: 'runner_system_failure',
};

export function mapFailureReason(reason: string, supported: readonly string[] | undefined): string {
  if (ALWAYS_SUPPORTED.has(reason) || supported?.includes(reason)) return reason;
  const compat = COMPAT[reason];
  return compat ?? 'unknown_failure';
}
