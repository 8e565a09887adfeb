/** The property the pipeline engine must hold for any text: no crash, every error positioned. */
import { compilePipeline } from '../../src/pipeline/compile.js';
import { lintPipeline } from '../../src/pipeline/lint.js';
import type { PipelineContext } from '../../src/pipeline/types.js';

export const FUZZ_CONTEXT: PipelineContext = {
  ref: 'main',
  sha: 'abc',
  beforeSha: '000',
  tag: false,
  source: 'push',
  defaultBranch: 'main',
  projectPath: 'group/project',
  variables: { CI_COMMIT_BRANCH: 'main', CI_COMMIT_REF_NAME: 'main' },
};

/**
 * Errors about the file as a whole, which carry no line:column (nor do GitLab's): the document is
 * not a map, is empty, nests too deep, or has no visible job.
 */
const WHOLE_FILE_ERRORS = [
  /^\(\.gitlab-ci\.yml\): Invalid configuration format$/,
  /^\(\.gitlab-ci\.yml\): Please provide content of \.gitlab-ci\.yml$/,
  /^\(\.gitlab-ci\.yml\): The parsed YAML is too deep \(nesting over \d+ levels\)$/,
  /^jobs config should contain at least one visible job$/,
];

/** Throws (with the input) when the engine crashes or returns an error without a position. */
export async function checkPipelineText(text: string): Promise<{ valid: boolean; errors: number }> {
  const compiled = await compilePipeline(text, FUZZ_CONTEXT);
  const lint = await lintPipeline(text, FUZZ_CONTEXT);
  if (compiled.ok) return { valid: true, errors: 0 };
  if (compiled.errors.length === 0) throw new Error('invalid pipeline without any error');
  const unplaced = compiled.errors.filter(
    (e) =>
      (!e.position || e.position.line < 1 || e.position.column < 1) &&
      !WHOLE_FILE_ERRORS.some((re) => re.test(e.message)),
  );
  if (unplaced.length > 0 && compiled.reason !== 'filtered')
    throw new Error(
      `errors without a position: ${unplaced.map((e) => `${e.path}: ${e.message}`).join(' | ')}`,
    );
  if (!lint.valid && lint.errors.length === 0) throw new Error('lint invalid without any error');
  return { valid: false, errors: compiled.errors.length };
}
