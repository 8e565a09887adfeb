import { addError, type Diagnostics } from './diagnostics.js';
import type { JobInstance } from './expand.js';
import type { NeedRef } from './job-needs.js';
import { matrixJobName } from './parallel.js';
import { keyPositionOf } from './positions.js';
import type { JobDefinition, NeedDefinition } from './types.js';

interface Index {
  byName: Map<string, JobDefinition>;
  /** Base name → instance names, for `needs`/`dependencies` on a parallel job. */
  byBase: Map<string, string[]>;
}

function buildIndex(instances: JobInstance[]): Index {
  const byName = new Map<string, JobDefinition>();
  const byBase = new Map<string, string[]>();
  for (const { def } of instances) {
    byName.set(def.name, def);
    if (def.nodeTotal !== null) byBase.set(def.baseName, [...(byBase.get(def.baseName) ?? []), def.name]);
  }
  return { byName, byBase };
}

function namesFor(index: Index, name: string): string[] {
  if (index.byName.has(name)) return [name];
  return index.byBase.get(name) ?? [];
}

/**
 * Resolves every instance's `needs` and checks `needs`/`dependencies` against the jobs that exist
 * in this pipeline (after rules), with GitLab's messages. Fills `def.needs`.
 */
export function resolveGraph(instances: JobInstance[], diag: Diagnostics): void {
  const index = buildIndex(instances);
  for (const inst of instances) {
    if (inst.needs !== null) inst.def.needs = resolveNeeds(inst, inst.needs, index, diag);
    checkDependencies(inst, index, diag);
  }
  detectCycles(instances, diag);
}

function needError(inst: JobInstance, diag: Diagnostics, message: string): void {
  const path = `jobs:${inst.def.baseName}:needs`;
  addError(diag, path, message, keyPositionOf(inst.spec.site.map, 'needs'));
}

function resolveNeeds(
  inst: JobInstance,
  needs: NeedRef[],
  index: Index,
  diag: Diagnostics,
): NeedDefinition[] {
  const out: NeedDefinition[] = [];
  const self = inst.def;
  for (const need of needs) {
    const targets = need.matrix ? need.matrix.map((e) => matrixJobName(need.job, e)) : [need.job];
    for (const target of targets) {
      const names = namesFor(index, target);
      if (names.length === 0 && !need.optional) {
        needError(
          inst,
          diag,
          `'${self.name}' job needs '${target}' job, but '${target}' does not exist in the pipeline. This might be because of the only, except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional.`,
        );
      }
      for (const name of names) {
        const other = index.byName.get(name);
        if (other && other.stageIndex > self.stageIndex) {
          needError(
            inst,
            diag,
            `'${self.name}' job needs '${name}' job, but '${name}' is not in any previous stage`,
          );
        }
        if (!out.some((n) => n.job === name))
          out.push({ job: name, artifacts: need.artifacts, optional: need.optional });
      }
    }
  }
  return out;
}

function checkDependencies(inst: JobInstance, index: Index, diag: Diagnostics): void {
  const deps = inst.def.dependencies;
  if (deps === null) return;
  const resolved: string[] = [];
  const pos = keyPositionOf(inst.spec.site.map, 'dependencies');
  const path = `jobs:${inst.def.baseName}:dependencies`;
  for (const dep of deps) {
    const names = namesFor(index, dep);
    if (names.length === 0) addError(diag, path, `${inst.def.name} job: undefined dependency: ${dep}`, pos);
    for (const name of names) {
      const other = index.byName.get(name);
      if (other && other.stageIndex > inst.def.stageIndex) {
        addError(
          diag,
          path,
          `${inst.def.name} job: dependency ${name} is not defined in current or prior stages`,
          pos,
        );
      }
      resolved.push(name);
    }
  }
  inst.def.dependencies = resolved;
}

/** Needs inside one stage can form a loop; GitLab refuses it. */
function detectCycles(instances: JobInstance[], diag: Diagnostics): void {
  const edges = new Map(instances.map((i) => [i.def.name, (i.def.needs ?? []).map((n) => n.job)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): boolean => {
    if (state.get(name) === 'done') return false;
    if (state.get(name) === 'visiting') return true;
    state.set(name, 'visiting');
    const cyclic = (edges.get(name) ?? []).some(visit);
    state.set(name, 'done');
    return cyclic;
  };
  for (const inst of instances) {
    if (state.has(inst.def.name)) continue;
    if (visit(inst.def.name)) {
      addError(
        diag,
        `jobs:${inst.def.baseName}:needs`,
        `${inst.def.name}: circular dependency detected in \`needs\``,
        keyPositionOf(inst.spec.site.map, 'needs'),
      );
    }
  }
}
