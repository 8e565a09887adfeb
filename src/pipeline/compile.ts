import { assembleJobs } from './assemble.js';
import { loadConfig } from './config.js';
import { addError, createDiagnostics, finalErrors, hasErrors, type Diagnostics } from './diagnostics.js';
import { resolveGraph } from './graph.js';
import { jobEntries, parseDefault, parseStages } from './root.js';
import type { RawMap } from './raw.js';
import type { CompileResult, PipelineContext } from './types.js';
import { parseVariables } from './variables.js';

export interface CompileOptions {
  /** Name used in positions and messages; `.gitlab-ci.yml` by default. */
  fileName?: string;
}

/**
 * Compiles a `.gitlab-ci.yml` for one commit/ref: parse, includes, extends, references, validation
 * with GitLab's wording, workflow and job rules, parallel expansion, needs graph. Every error found
 * is returned together (each with its keyword path and file:line:column).
 */
export async function compilePipeline(yamlText: string, context: PipelineContext, options: CompileOptions = {}): Promise<CompileResult> {
  const diag = createDiagnostics();
  const root = await loadConfig(yamlText, context, diag, { file: options.fileName ?? '.gitlab-ci.yml' });
  if (!root || hasErrors(diag)) return invalid(diag);
  return compileRoot(root, diag);
}

/** Compiles an already loaded and expanded configuration map. */
export function compileRoot(root: RawMap, diag: Diagnostics): CompileResult {
  const stages = parseStages(root, diag);
  const defaults = parseDefault(root, diag);
  const variables = parseVariables({ diag, path: '', map: root }, 'variables');
  if (jobEntries(root, createDiagnostics()).length === 0) {
    addError(diag, 'jobs', 'jobs config should contain at least one visible job');
  }
  const instances = assembleJobs({ root, defaults, stages, diag });
  if (hasErrors(diag)) return invalid(diag);
  resolveGraph(instances, diag);
  if (hasErrors(diag)) return invalid(diag);
  const pipeline = {
    stages,
    variables,
    jobs: instances.map((i) => i.def).filter((j) => j.when !== 'never'),
    workflowName: null,
    warnings: diag.warnings,
  };
  return { ok: true, pipeline };
}

function invalid(diag: Diagnostics): CompileResult {
  return { ok: false, errors: finalErrors(diag), warnings: diag.warnings, reason: 'invalid' };
}
