/**
 * Project variables with an `environment_scope` other than `*`, for a job with `environment:`:
 * a scope matches the expanded environment name exactly or with `*` wildcards (`review/*`). Per
 * key the most specific scope wins: an exact name, then the longest pattern, then `*`. Variables
 * given to the pipeline (API, trigger) still win over them, as in GitLab.
 */
import type { JobVariable } from '../../../api/runner-api.js';
import type { ProjectStore, VariableRecord } from '../../store/store.js';
import { matchesWildcard } from './slug.js';
import { toJobVariable } from './variables.js';

const ALL = '*';

function specificity(scope: string, environment: string): number {
  if (scope === environment) return Number.MAX_SAFE_INTEGER;
  return scope.replace(/\*/g, '').length;
}

/** The scoped variables of the project for this environment, one per key. */
export function pickScoped(
  variables: readonly VariableRecord[],
  environment: string,
  refProtected: boolean,
): VariableRecord[] {
  const best = new Map<string, VariableRecord>();
  for (const v of variables) {
    if (v.environmentScope === ALL || v.environmentScope === '') continue;
    if (v.protected && !refProtected) continue;
    if (!matchesWildcard(v.environmentScope, environment)) continue;
    const current = best.get(v.key);
    if (
      !current ||
      specificity(v.environmentScope, environment) > specificity(current.environmentScope, environment)
    ) {
      best.set(v.key, v);
    }
  }
  return [...best.values()];
}

/**
 * `variables` with the environment's scoped project variables applied: each replaces the entry of
 * its key in place (or is appended), except keys set by the pipeline's own variables.
 */
export async function withScopedVariables(
  store: ProjectStore,
  input: {
    projectId: number;
    environment: string;
    refProtected: boolean;
    pipelineKeys: ReadonlySet<string>;
  },
  variables: JobVariable[],
): Promise<JobVariable[]> {
  const all = await store.listVariables(input.projectId);
  const scoped = pickScoped(all, input.environment, input.refProtected).filter(
    (v) => !input.pipelineKeys.has(v.key),
  );
  if (scoped.length === 0) return variables;
  const byKey = new Map(scoped.map((v) => [v.key, toJobVariable(v)]));
  const out = variables.map((v) => {
    const replacement = byKey.get(v.key);
    if (!replacement) return v;
    byKey.delete(v.key);
    return replacement;
  });
  return [...out, ...byKey.values()];
}
