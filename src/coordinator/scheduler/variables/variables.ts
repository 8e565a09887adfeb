import type { JobVariable } from '../../../api/runner-api.js';
import type { ProjectRecord, ProjectStore, VariableRecord } from '../../store/store.js';
import { matchesWildcard } from './slug.js';

/** A ref is protected when it matches one of the project's protected branch patterns (tags: none yet). */
export function isRefProtected(project: ProjectRecord, ref: string, tag: boolean): boolean {
  if (tag) return false;
  const patterns = project.protectedBranches.length > 0 ? project.protectedBranches : [project.defaultBranch];
  return patterns.some((p) => matchesWildcard(p, ref));
}

/** Project CI/CD variables for a job; protected ones only on protected refs. */
export async function projectVariablesFor(
  store: ProjectStore,
  projectId: number,
  refProtected: boolean,
): Promise<JobVariable[]> {
  const vars = await store.listVariables(projectId);
  return vars
    .filter((v) => refProtected || !v.protected)
    .filter((v) => v.environmentScope === '*' || v.environmentScope === '')
    .map(toJobVariable);
}

/** A project (or environment-scoped) CI/CD variable as a job gets it. */
export function toJobVariable(v: VariableRecord): JobVariable {
  return {
    key: v.key,
    value: v.value,
    public: false,
    masked: v.masked,
    ...(v.variableType === 'file' ? { file: true } : {}),
    ...(v.raw ? { raw: true } : {}),
  };
}
