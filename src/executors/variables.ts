/**
 * Variable expansion as gitlab-runner does it before a job starts: in every variable that is not
 * `raw` (and not a file variable), `$NAME` and `${NAME}` are replaced by that variable's value (the
 * last definition wins; an undefined name becomes empty) and `$$` is a literal `$`. Expansion is one
 * level deep, like Go's os.Expand over the job's variable list.
 */
import type { JobVariable } from '../api/runner-api.js';

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export function expandValue(value: string, lookup: ReadonlyMap<string, string>): string {
  return value.replace(REFERENCE, (whole, braced: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    return lookup.get(braced ?? bare ?? '') ?? '';
  });
}

export function expandVariables(variables: readonly JobVariable[]): JobVariable[] {
  const lookup = new Map(variables.map((v) => [v.key, v.value]));
  return variables.map((v) => (v.raw || v.file ? v : { ...v, value: expandValue(v.value, lookup) }));
}
