import type { Diagnostics } from './diagnostics.js';
import { expandParallel, type JobInstance } from './expand.js';
import { buildJob } from './job.js';
import { applyDefaults, jobEntries, parseInherit } from './root.js';
import type { RawMap } from './raw.js';

export interface AssembleInput {
  root: RawMap;
  defaults: RawMap;
  stages: string[];
  diag: Diagnostics;
}

/** Every job of the configuration validated and expanded, before rules filtered any out. */
export function assembleJobs(input: AssembleInput): JobInstance[] {
  const out: JobInstance[] = [];
  for (const [name, raw] of jobEntries(input.root, input.diag)) {
    const path = `jobs:${name}`;
    const inherit = parseInherit(raw, path, input.diag);
    const merged = applyDefaults(raw, input.defaults, inherit);
    const spec = buildJob({ diag: input.diag, path, map: merged }, input.stages);
    if (inherit.variables !== null) spec.def.inheritedGlobalVariables = inherit.variables;
    out.push(...expandParallel(spec, spec.needs, spec.def));
  }
  return out;
}
