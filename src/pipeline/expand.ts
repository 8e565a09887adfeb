import type { NeedRef } from './job-needs.js';
import { matrixJobName, parallelJobName, type MatrixEntry } from './parallel.js';
import type { JobSpec } from './job.js';
import type { JobDefinition } from './types.js';

/** A job instance after `parallel` expansion, with its unresolved needs. */
export interface JobInstance {
  def: JobDefinition;
  spec: JobSpec;
  needs: NeedRef[] | null;
}

/** `parallel: N` → `name 1/N`...; `parallel:matrix` → `name: [a, b]` with the matrix variables injected. */
export function expandParallel(spec: JobSpec, needs: NeedRef[] | null, def: JobDefinition): JobInstance[] {
  const parallel = spec.parallel;
  if (parallel?.count) return countInstances(spec, needs, def, parallel.count);
  if (parallel?.matrix) return matrixInstances(spec, needs, def, parallel.matrix);
  return [{ def, spec, needs }];
}

function countInstances(
  spec: JobSpec,
  needs: NeedRef[] | null,
  def: JobDefinition,
  total: number,
): JobInstance[] {
  return Array.from({ length: total }, (_, i) => ({
    spec,
    needs,
    def: { ...def, name: parallelJobName(def.baseName, i + 1, total), nodeIndex: i + 1, nodeTotal: total },
  }));
}

function matrixInstances(
  spec: JobSpec,
  needs: NeedRef[] | null,
  def: JobDefinition,
  matrix: MatrixEntry[],
): JobInstance[] {
  return matrix.map((entry, i) => ({
    spec,
    needs,
    def: {
      ...def,
      name: matrixJobName(def.baseName, entry),
      nodeIndex: i + 1,
      nodeTotal: matrix.length,
      variables: withMatrix(def.variables, entry),
    },
  }));
}

function withMatrix(variables: JobDefinition['variables'], entry: MatrixEntry): JobDefinition['variables'] {
  const names = new Set(entry.map(([k]) => k));
  const kept = variables.filter((v) => !names.has(v.key));
  return [...kept, ...entry.map(([key, value]) => ({ key, value, expand: true }))];
}
