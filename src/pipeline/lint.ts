import { Document, visit } from 'yaml';

import { compileRoot, ruleEnv, type CompileOptions } from './compile.js';
import { loadConfig } from './config.js';
import { createDiagnostics, finalErrors, hasErrors } from './diagnostics.js';
import { formatPosition } from './positions.js';
import { psychPlainScalar } from './psych-scalar.js';
import type { PipelineContext, PipelineError } from './types.js';

export interface LintJob {
  name: string;
  stage: string;
  beforeScript: string[];
  script: string[];
  afterScript: string[];
  tagList: string[];
  when: string;
  allowFailure: boolean;
  needs: string[] | null;
}

/** A GitLab CI lint API style answer (`valid`, `errors`, `warnings`, `merged_yaml`, `jobs`). */
export interface LintResult {
  valid: boolean;
  /** "jobs:build:script config should be ... at .gitlab-ci.yml:12:5" */
  errors: string[];
  warnings: string[];
  /** The configuration after includes, `extends` and `!reference`, as YAML ("" when it did not load). */
  mergedYaml: string;
  jobs: LintJob[];
  /** The pipeline would not be created for this context (workflow or rules), though the file is valid. */
  filtered: boolean;
}

/** One error as one line: GitLab's message (prefixed by its path when it lacks one) and its position. */
export function formatError(error: PipelineError): string {
  const text =
    error.message.startsWith(error.path) || error.path === 'root'
      ? error.message
      : `${error.path}: ${error.message}`;
  const at = formatPosition(error.position);
  return at ? `${text} ${at}` : text;
}

/**
 * The merged configuration as YAML that GitLab's loader reads back to the same values: a string
 * that Psych would take for something else unquoted (`yes`, `012`, `1,000`, `1:20`) is quoted.
 */
function mergedYamlText(root: unknown): string {
  const doc = new Document(root, { aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === 'string' && psychPlainScalar(node.value) !== node.value)
        node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Validates a configuration for `flotilla lint` and the lint API. */
export async function lintPipeline(
  yamlText: string,
  context: PipelineContext,
  options: CompileOptions = {},
): Promise<LintResult> {
  const diag = createDiagnostics();
  const env = await ruleEnv(context, yamlText);
  const root = await loadConfig(yamlText, env, diag, { file: options.fileName ?? '.gitlab-ci.yml' });
  const mergedYaml = root && !hasErrors(diag) ? mergedYamlText(root) : '';
  if (!root || hasErrors(diag))
    return {
      valid: false,
      errors: finalErrors(diag).map(formatError),
      warnings: diag.warnings,
      mergedYaml,
      jobs: [],
      filtered: false,
    };
  const result = compileRoot(root, env, diag);
  if (!result.ok) {
    const filtered = result.reason === 'filtered';
    return {
      valid: filtered,
      errors: filtered ? [] : result.errors.map(formatError),
      warnings: [...result.warnings, ...(filtered ? result.errors.map((e) => e.message) : [])],
      mergedYaml,
      jobs: [],
      filtered,
    };
  }
  const jobs = result.pipeline.jobs.map((j) => ({
    name: j.name,
    stage: j.stage,
    beforeScript: j.beforeScript,
    script: j.script,
    afterScript: j.afterScript,
    tagList: j.tags,
    when: j.when,
    allowFailure: j.allowFailure,
    needs: j.needs?.map((n) => n.job) ?? null,
  }));
  return { valid: true, errors: [], warnings: result.pipeline.warnings, mergedYaml, jobs, filtered: false };
}
