/** Shared by the engine's table tests: a push context on `main` and compile helpers. */
import { compilePipeline } from '../../../src/pipeline/compile.js';
import type {
  CompileResult,
  JobDefinition,
  PipelineContext,
  PipelineDefinition,
} from '../../../src/pipeline/types.js';

export const context: PipelineContext = {
  ref: 'main',
  sha: 'abc',
  beforeSha: '000',
  tag: false,
  source: 'push',
  defaultBranch: 'main',
  projectPath: 'group/project',
  variables: { CI_COMMIT_BRANCH: 'main', CI_COMMIT_REF_NAME: 'main' },
};

export async function compileOk(yaml: string): Promise<PipelineDefinition> {
  const result = await compilePipeline(yaml, context);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.pipeline;
}

export async function messages(yaml: string): Promise<string[]> {
  const result: CompileResult = await compilePipeline(yaml, context);
  if (result.ok) throw new Error('expected errors');
  return result.errors.map((e) => e.message);
}

export function job(p: PipelineDefinition, name: string): JobDefinition {
  const found = p.jobs.find((j) => j.name === name);
  if (!found) throw new Error(`no job ${name}: ${p.jobs.map((j) => j.name).join(', ')}`);
  return found;
}
