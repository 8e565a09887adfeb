import { selectJobs, validateJobs } from './assemble.js';
import { loadConfig } from './config.js';
import { addError, createDiagnostics, finalErrors, hasErrors, type Diagnostics } from './diagnostics.js';
import { resolveGraph } from './graph.js';
import { jobEntries, parseDefault, parseStages } from './root.js';
import type { RawMap } from './raw.js';
import { positionOf } from './positions.js';
import type { RuleEnv } from './rules.js';
import type { CompileResult, PipelineContext, PipelineDefinition } from './types.js';
import { expandVariables, mergeVariables, parseVariables, variablesToRecord } from './variables.js';
import { evaluateWorkflow } from './workflow.js';
import { overrideVariables } from './conditions.js';

export interface CompileOptions {
  /** Name used in positions and messages; `.gitlab-ci.yml` by default. */
  fileName?: string;
}

export const WORKFLOW_FILTERED = 'Pipeline filtered out by workflow rules.';
export const NO_JOBS =
  'Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.';

/**
 * Compiles a `.gitlab-ci.yml` for one commit/ref: parse, includes, extends, references, validation
 * with GitLab's wording, workflow and job rules, parallel expansion, needs graph. Every error found
 * is returned together (each with its keyword path and file:line:column).
 */
export async function compilePipeline(
  yamlText: string,
  context: PipelineContext,
  options: CompileOptions = {},
): Promise<CompileResult> {
  const diag = createDiagnostics();
  const env = await ruleEnv(context, yamlText);
  const root = await loadConfig(yamlText, env, diag, { file: options.fileName ?? '.gitlab-ci.yml' });
  if (!root || hasErrors(diag)) return invalid(diag);
  return compileRoot(root, env, diag);
}

/** The base environment of rules; the file list is only read when some rule uses `exists`. */
export async function ruleEnv(context: PipelineContext, text: string): Promise<RuleEnv> {
  const files =
    context.listFiles && (text.includes('exists') || text.includes('include'))
      ? await context.listFiles()
      : null;
  return { vars: context.variables, context, files };
}

/** Compiles an already loaded and expanded configuration map. */
export function compileRoot(root: RawMap, env: RuleEnv, diag: Diagnostics): CompileResult {
  const stages = parseStages(root, diag);
  const defaults = parseDefault(root, diag);
  const declared = parseVariables({ diag, path: '', map: root }, 'variables');
  if (jobEntries(root, createDiagnostics()).length === 0)
    addError(diag, 'jobs', 'jobs config should contain at least one visible job', positionOf(root));
  const workflowEnv = { ...env, vars: mergeVariables(variablesToRecord(declared), env.context.variables) };
  const workflow = evaluateWorkflow(root, workflowEnv, diag);
  const jobs = validateJobs({ root, defaults, stages, diag });
  if (hasErrors(diag)) return invalid(diag);
  if (!workflow.run) return filtered(diag, 'workflow', WORKFLOW_FILTERED);
  const variables = overrideVariables(declared, workflow.variables);
  const instances = selectJobs(jobs, env, variablesToRecord(variables));
  const kept = instances.filter((i) => i.def.when !== 'never');
  if (kept.length === 0) return filtered(diag, 'jobs', NO_JOBS);
  resolveGraph(kept, diag);
  if (hasErrors(diag)) return invalid(diag);
  const names = mergeVariables(variablesToRecord(variables), env.context.variables);
  const pipeline: PipelineDefinition = {
    stages,
    variables,
    jobs: kept.map((i) => i.def),
    workflowName: workflow.name === null ? null : expandVariables(workflow.name, names),
    warnings: diag.warnings,
    ...(workflow.autoCancel ? { autoCancel: workflow.autoCancel } : {}),
  };
  return { ok: true, pipeline };
}

function invalid(diag: Diagnostics): CompileResult {
  return { ok: false, errors: finalErrors(diag), warnings: diag.warnings, reason: 'invalid' };
}

function filtered(diag: Diagnostics, path: string, message: string): CompileResult {
  return { ok: false, errors: [{ path, message }], warnings: diag.warnings, reason: 'filtered' };
}
