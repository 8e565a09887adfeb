import { addError, hasErrors, type Diagnostics } from './diagnostics.js';
import { resolveExtends } from './extends.js';
import { expandIncludes, type IncludeState } from './include.js';
import { interpolate, resolveInputs } from './inputs.js';
import { positionOf } from './positions.js';
import { isMap, type RawMap } from './raw.js';
import { resolveReferences } from './references.js';
import type { RuleEnv } from './rules.js';
import type { SourcePosition } from './types.js';
import { loadYaml } from './yaml-load.js';

export interface LoadOptions {
  file: string;
}

/**
 * Text → the fully expanded configuration map: YAML parsed with positions, then (GitLab's order)
 * includes merged, `extends` resolved, `!reference` tags replaced. null after reporting errors.
 */
export async function loadConfig(
  text: string,
  env: RuleEnv,
  diag: Diagnostics,
  options: LoadOptions,
): Promise<RawMap | null> {
  const load = (t: string, file: string, inputs: Record<string, unknown>): RawMap | null =>
    loadDocument(t, file, inputs, diag, true);
  const root = loadDocument(text, options.file, env.context.inputs ?? {}, diag, false);
  if (!root) return null;
  const state: IncludeState = { env, diag, load, count: 0 };
  const included = await expandIncludes(root, state, 0);
  if (hasErrors(diag)) return null;
  const extended = resolveExtends(included, diag);
  if (hasErrors(diag)) return null;
  return resolveReferences(extended, diag);
}

/** One file: an optional `spec:` header document, then the configuration, inputs interpolated. */
export function loadDocument(
  text: string,
  file: string,
  given: Record<string, unknown>,
  diag: Diagnostics,
  strict: boolean,
): RawMap | null {
  const starts: SourcePosition[] = [];
  const docs = loadYaml(text, file, diag, starts);
  if (!docs) return null;
  // where a document begins (line 1, column 1 for an empty file)
  const startOf = (i: number): SourcePosition => starts[i] ?? { file, line: 1, column: 1 };
  if (docs.length > 2)
    return fail(
      diag,
      `(${file}): a configuration has at most two documents: a spec header and the configuration`,
      startOf(2),
    );
  const [header, body] = docs.length === 2 ? docs : [null, docs[0]];
  if (header !== null && !(isMap(header) && Object.keys(header).every((k) => k === 'spec'))) {
    return fail(
      diag,
      `(${file}): the header document should only contain spec`,
      positionOf(header) ?? startOf(0),
    );
  }
  if (!isMap(body)) {
    return fail(
      diag,
      body === null || body === undefined
        ? `(${file}): Please provide content of ${file}`
        : `(${file}): Invalid configuration format`,
      positionOf(body) ?? startOf(docs.length - 1),
    );
  }
  if (header === null) {
    if (strict && Object.keys(given).length > 0)
      return fail(
        diag,
        `${file}: Given inputs not defined in the \`spec\` section of the included configuration file`,
        startOf(0),
      );
    return body;
  }
  const inputs = resolveInputs(header['spec'], given, file, diag);
  if (!inputs) return null;
  const interpolated = interpolate(body, inputs, file, diag);
  return isMap(interpolated) ? interpolated : null;
}

function fail(diag: Diagnostics, message: string, position?: ReturnType<typeof positionOf>): null {
  addError(diag, 'root', message, position);
  return null;
}
