/**
 * GitLab Runner's stage attempt variables: `GET_SOURCES_ATTEMPTS`, `ARTIFACT_DOWNLOAD_ATTEMPTS`,
 * `RESTORE_CACHE_ATTEMPTS` (how many times the stage runs before its failure fails the job) and
 * `EXECUTOR_JOB_SECTION_ATTEMPTS` (how many times one stage is run again after the executor
 * reported a system failure, e.g. the Docker Engine refused to create a container; a script's
 * non-zero exit is never retried by it). Each is a job variable from 1 to 10, 1 by default.
 * gitlab-runner treats a value out of that range as an error and a non-number as the default;
 * Flotilla refuses both, before anything runs, with an error naming the variable and the range.
 */
import type { JobVariable } from '../../api/runner-api.js';
import { variableValue, type BuildStage } from '../../executors/executor.js';
import { JobInterrupt } from './job-control.js';

export const MIN_ATTEMPTS = 1;
export const MAX_ATTEMPTS = 10;

/** The stages a stage attempt variable retries, and its name. */
export const STAGE_ATTEMPT_VARIABLES = {
  get_sources: 'GET_SOURCES_ATTEMPTS',
  restore_cache: 'RESTORE_CACHE_ATTEMPTS',
  download_artifacts: 'ARTIFACT_DOWNLOAD_ATTEMPTS',
} as const satisfies Partial<Record<BuildStage, string>>;

export const SECTION_ATTEMPTS_VARIABLE = 'EXECUTOR_JOB_SECTION_ATTEMPTS';

export type RetriedStage = keyof typeof STAGE_ATTEMPT_VARIABLES;

export interface JobAttempts {
  /** Runs of each retried stage before its failure counts. */
  stage: Record<RetriedStage, number>;
  /** Runs of one stage after executor system failures. */
  section: number;
}

/** A stage attempt variable outside 1..10 (or not a whole number). */
export class InvalidAttemptsError extends Error {
  readonly code = 'FLO_ERR_CONFIG_INVALID';
  readonly variable: string;
  constructor(variable: string, value: string) {
    super(
      `${variable} is ${JSON.stringify(value)}: the number of attempts must be a whole number ` +
        `in the range [${MIN_ATTEMPTS}, ${MAX_ATTEMPTS}]`,
    );
    this.name = 'InvalidAttemptsError';
    this.variable = variable;
  }
}

/** The value of one attempt variable: 1 when unset or empty; throws when out of range. */
export function attemptsOf(variables: readonly JobVariable[], key: string): number {
  const raw = variableValue(variables, key);
  if (raw === undefined || raw.trim() === '') return MIN_ATTEMPTS;
  const text = raw.trim();
  const value = /^[+]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < MIN_ATTEMPTS || value > MAX_ATTEMPTS)
    throw new InvalidAttemptsError(key, raw);
  return value;
}

/** All four attempt variables of a job; throws the first invalid one. */
export function jobAttempts(variables: readonly JobVariable[]): JobAttempts {
  const stage = {} as Record<RetriedStage, number>;
  for (const [name, key] of Object.entries(STAGE_ATTEMPT_VARIABLES) as [RetriedStage, string][])
    stage[name] = attemptsOf(variables, key);
  return { stage, section: attemptsOf(variables, SECTION_ATTEMPTS_VARIABLE) };
}

export function isRetriedStage(stage: BuildStage): stage is RetriedStage {
  return stage in STAGE_ATTEMPT_VARIABLES;
}

/**
 * Whether an error thrown by an executor's stage is a system failure that
 * `EXECUTOR_JOB_SECTION_ATTEMPTS` retries: not an interrupt (the stage was stopped), not an error
 * the executor tagged with another failure reason (a configuration refused, an image not pulled).
 */
export function isRetriableSystemFailure(err: Error, signal: AbortSignal): boolean {
  if (signal.aborted || err instanceof JobInterrupt) return false;
  const tagged = (err as { failureReason?: unknown }).failureReason;
  return tagged === undefined || tagged === 'runner_system_failure';
}
