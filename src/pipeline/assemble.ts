import { checkOnStop } from './job-environment.js';
import { applyConditions, jobRuleEnv, parseConditions, type JobConditions } from './conditions.js';
import type { Diagnostics } from './diagnostics.js';
import { expandParallel, type JobInstance } from './expand.js';
import { buildJob, type JobSpec } from './job.js';
import { applyDefaults, jobEntries, parseInherit } from './root.js';
import type { RawMap } from './raw.js';
import type { RuleEnv } from './rules.js';

export interface AssembleInput {
  root: RawMap;
  defaults: RawMap;
  stages: string[];
  diag: Diagnostics;
}

export interface ValidatedJob {
  spec: JobSpec;
  conditions: JobConditions;
}

/** Every job of the configuration validated (whether or not rules will keep it). */
export function validateJobs(input: AssembleInput): ValidatedJob[] {
  const out: ValidatedJob[] = [];
  for (const [name, raw] of jobEntries(input.root, input.diag)) {
    const path = `jobs:${name}`;
    const inherit = parseInherit(raw, path, input.diag);
    const merged = applyDefaults(raw, input.defaults, inherit);
    const site = { diag: input.diag, path, map: merged };
    const spec = buildJob(site, input.stages);
    if (inherit.variables !== null) spec.def.inheritedGlobalVariables = inherit.variables;
    out.push({ spec, conditions: parseConditions(site) });
  }
  checkOnStop(
    out.map((j) => j.spec),
    input.diag,
  );
  return out;
}

/** The jobs this context runs: rules/only/except applied, then `parallel` expanded. */
export function selectJobs(
  jobs: ValidatedJob[],
  env: RuleEnv,
  globals: Record<string, string>,
): JobInstance[] {
  const out: JobInstance[] = [];
  for (const { spec, conditions } of jobs) {
    const visible = inheritedGlobals(globals, spec.def.inheritedGlobalVariables);
    const applied = applyConditions(spec, conditions, jobRuleEnv(env, visible, spec.def));
    if (applied) out.push(...expandParallel(spec, applied.needs, applied.def));
  }
  return out;
}

function inheritedGlobals(
  globals: Record<string, string>,
  names: string[] | undefined,
): Record<string, string> {
  if (names === undefined) return globals;
  return Object.fromEntries(Object.entries(globals).filter(([k]) => names.includes(k)));
}
