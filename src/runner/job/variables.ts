/** The variables a job sees: the runner's own (CI_RUNNER_*, CI_CONCURRENT_*...), the payload's, then `environment`. */
import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import { FLOTILLA_REVISION, goArch } from '../version.js';

export interface RunnerVariableContext {
  shortToken: string;
  version: string;
  concurrentId: number;
  environment: readonly string[];
}

function plain(key: string, value: string): JobVariable {
  return { key, value, public: true, masked: false };
}

export function environmentVariables(entries: readonly string[]): JobVariable[] {
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    return plain(entry.slice(0, eq), entry.slice(eq + 1));
  });
}

export function buildJobVariables(payload: JobPayload, ctx: RunnerVariableContext): JobVariable[] {
  const timeout = payload.runner_info.timeout > 0 ? payload.runner_info.timeout : 7200;
  return [
    plain('CI_SERVER', 'yes'),
    plain('CI_RUNNER_SHORT_TOKEN', ctx.shortToken),
    plain('CI_RUNNER_VERSION', ctx.version),
    plain('CI_RUNNER_REVISION', FLOTILLA_REVISION),
    plain('CI_RUNNER_EXECUTABLE_ARCH', `${process.platform}/${goArch()}`),
    plain('CI_CONCURRENT_ID', String(ctx.concurrentId)),
    plain('CI_CONCURRENT_PROJECT_ID', String(ctx.concurrentId)),
    plain('CI_JOB_TIMEOUT', String(timeout)),
    ...payload.variables,
    ...environmentVariables(ctx.environment),
  ];
}

/** Values that must never appear in the job log. */
export function secretValues(payload: JobPayload, variables: readonly JobVariable[]): string[] {
  return [payload.token, ...variables.filter((v) => v.masked).map((v) => v.value)].filter(
    (v) => v.length > 0,
  );
}
