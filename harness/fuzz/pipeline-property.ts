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

/** Throws (with the input) when the engine crashes or returns an error without a position. */
export async function checkPipelineText(text: string): Promise<{ valid: boolean; errors: number }> {
  const compiled = await compilePipeline(text, FUZZ_CONTEXT);
  const lint = await lintPipeline(text, FUZZ_CONTEXT);
  if (compiled.ok) return { valid: true, errors: 0 };
  if (compiled.errors.length === 0) throw new Error('invalid pipeline without any error');
  // every error of an invalid file has a file:line:column, those about the file as a whole too
  // (where its document starts); a valid file filtered out by rules is not an error of the file
  const unplaced = compiled.errors.filter(
    (e) => !e.position || e.position.line < 1 || e.position.column < 1 || !e.position.file,
  );
  if (unplaced.length > 0 && compiled.reason !== 'filtered')
    throw new Error(
      `errors without a position: ${unplaced.map((e) => `${e.path}: ${e.message}`).join(' | ')}`,
    );
  if (!lint.valid && lint.errors.length === 0) throw new Error('lint invalid without any error');
  const lintUnplaced = lint.errors.filter((e) => !/ at [^\s]+:\d+:\d+$/.test(e));
  if (lintUnplaced.length > 0) throw new Error(`lint errors without a position: ${lintUnplaced.join(' | ')}`);
  return { valid: false, errors: compiled.errors.length };
}
