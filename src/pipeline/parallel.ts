import { LIMITS } from './limits.js';
import { keyError, type Site } from './report.js';
import { isMap, isScalar } from './raw.js';

/** One combination of matrix variables, in definition order. */
export type MatrixEntry = [string, string][];

export interface ParallelSpec {
  /** `parallel: N`: N plain copies. */
  count: number | null;
  /** `parallel:matrix`: one entry per generated job. */
  matrix: MatrixEntry[] | null;
}

/** `parallel`: an integer 1..200 or `{ matrix: [...] }`. */
export function parseParallel(site: Site): ParallelSpec | null {
  const raw = site.map['parallel'];
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 1 || raw > LIMITS.maxParallel) {
      keyError(
        site,
        'parallel',
        `config must be greater than or equal to 1 and less than or equal to ${LIMITS.maxParallel}`,
      );
      return null;
    }
    return { count: raw, matrix: null };
  }
  if (!isMap(raw) || Object.keys(raw).some((k) => k !== 'matrix')) {
    keyError(site, 'parallel', 'should be an integer or a hash');
    return null;
  }
  const matrix = parseMatrix({ diag: site.diag, path: `${site.path}:parallel`, map: raw }, raw['matrix']);
  return matrix ? { count: null, matrix } : null;
}

/** `matrix: [{A: [1, 2], B: x}, ...]` → every combination, GitLab's order (first variable slowest). */
export function parseMatrix(site: Site, raw: unknown): MatrixEntry[] | null {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every(isMap)) {
    keyError(site, 'matrix', 'config should be an array of hashes');
    return null;
  }
  const out: MatrixEntry[] = [];
  for (const row of raw) {
    const axes = Object.entries(row).map(([k, v]) => [k, axisValues(v)] as const);
    if (axes.length === 0 || axes.some(([, v]) => v === null)) {
      keyError(
        site,
        'matrix',
        'config should be an array of hashes whose values are strings or arrays of strings',
      );
      return null;
    }
    if (!addCombinations(out, axes as [string, string[]][])) break;
  }
  if (out.length > LIMITS.maxParallel) {
    keyError(site, 'matrix', `config generates too many jobs (maximum is ${LIMITS.maxParallel})`);
    return null;
  }
  return out;
}

function axisValues(value: unknown): string[] | null {
  const list = Array.isArray(value) ? value : [value];
  return list.length > 0 && list.every(isScalar) ? list.map(String) : null;
}

function addCombinations(out: MatrixEntry[], axes: [string, string[]][]): boolean {
  let combos: MatrixEntry[] = [[]];
  for (const [name, values] of axes) {
    combos = combos.flatMap((c) => values.map((v): MatrixEntry => [...c, [name, v]]));
    if (combos.length + out.length > LIMITS.maxParallel) {
      out.push(...combos);
      return false;
    }
  }
  out.push(...combos);
  return true;
}

/** GitLab's name of one matrix instance: `test: [ruby, 3.2]`. */
export function matrixJobName(base: string, entry: MatrixEntry): string {
  return `${base}: [${entry.map(([, v]) => v).join(', ')}]`;
}

/** GitLab's name of one `parallel: N` instance: `test 2/5`. */
export function parallelJobName(base: string, index: number, total: number): string {
  return `${base} ${index}/${total}`;
}
