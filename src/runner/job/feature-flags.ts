/**
 * gitlab-runner's feature flags that this runner honours, resolved as gitlab-runner resolves them:
 * a flag set in the runner's `[runners.feature_flags]` wins; else the job's variable of that name
 * (from `.gitlab-ci.yml`, the project, or the runner's `environment`), parsed like Go's
 * `strconv.ParseBool`; else the flag's default.
 */
import type { JobVariable } from '../../api/runner-api.js';
import { variableValue } from '../../executors/executor.js';

/** Flags this runner reads, with their defaults. */
export const FEATURE_FLAG_DEFAULTS = {
  /**
   * Off by default, unlike gitlab-runner 18 (on): the headers make every log about a third larger
   * and the runner's log path about a third slower (docs/benchmarks.md, 4b), and an existing path
   * must not get slower for a new feature. Turn it on in `[runners.feature_flags]` or as a variable.
   */
  FF_TIMESTAMPS: false,
} as const;

export type FeatureFlag = keyof typeof FEATURE_FLAG_DEFAULTS;

const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** Go's `strconv.ParseBool`: true/false, or undefined for anything else. */
export function parseGoBool(value: string): boolean | undefined {
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  return undefined;
}

export interface FeatureFlagSource {
  /** `[runners.feature_flags]`. */
  configured: Readonly<Record<string, boolean>>;
  variables: readonly JobVariable[];
  /** Told about a job variable that is not a boolean (the default is used). */
  onInvalid?: (flag: FeatureFlag, value: string) => void;
}

export function featureFlagOn(flag: FeatureFlag, source: FeatureFlagSource): boolean {
  const configured = source.configured[flag];
  if (configured !== undefined) return configured;
  const value = variableValue(source.variables, flag);
  if (value === undefined || value === '') return FEATURE_FLAG_DEFAULTS[flag];
  const parsed = parseGoBool(value);
  if (parsed === undefined) source.onInvalid?.(flag, value);
  return parsed ?? FEATURE_FLAG_DEFAULTS[flag];
}

/** gitlab-runner's header addition: the flags whose value differs from the default, or ''. */
export function changedFlags(source: FeatureFlagSource): string {
  return (Object.keys(FEATURE_FLAG_DEFAULTS) as FeatureFlag[])
    .map((flag) => [flag, featureFlagOn(flag, source)] as const)
    .filter(([flag, on]) => on !== FEATURE_FLAG_DEFAULTS[flag])
    .map(([flag, on]) => `${flag}:${String(on)}`)
    .join(', ');
}
