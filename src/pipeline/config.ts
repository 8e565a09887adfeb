import { addError, hasErrors, type Diagnostics } from './diagnostics.js';
import { resolveExtends } from './extends.js';
import { resolveReferences } from './references.js';
import { isMap, type RawMap } from './raw.js';
import type { PipelineContext } from './types.js';
import { loadYaml } from './yaml-load.js';

export interface LoadOptions {
  file: string;
}

/**
 * Text → the fully expanded configuration map: YAML parsed with positions, then (GitLab's order)
 * includes merged, `extends` resolved, `!reference` tags replaced. null after reporting errors.
 */
export async function loadConfig(text: string, context: PipelineContext, diag: Diagnostics, options: LoadOptions): Promise<RawMap | null> {
  void context;
  const docs = loadYaml(text, options.file, diag);
  if (!docs) return null;
  const root = docs.length > 1 ? docs[1] : docs[0];
  if (!isMap(root)) {
    addError(diag, 'root', root === null || root === undefined ? 'Please provide content of .gitlab-ci.yml' : 'Invalid configuration format');
    return null;
  }
  const extended = resolveExtends(root, diag);
  if (hasErrors(diag)) return null;
  return resolveReferences(extended, diag);
}
