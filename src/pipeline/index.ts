/** The pipeline engine's public API: `.gitlab-ci.yml` text + context → PipelineDefinition or positioned errors. */
export { compilePipeline, NO_JOBS, WORKFLOW_FILTERED, type CompileOptions } from './compile.js';
export { formatError, lintPipeline, type LintJob, type LintResult } from './lint.js';
export { expandVariables, type ExpandOptions } from './variables.js';
export { evaluateCondition } from './expression-eval.js';
export { ExpressionError } from './expression.js';
export { compileRegex, RegexSyntaxError, type SafeRegex } from './re2.js';
export { LIMITS } from './limits.js';
export type * from './types.js';
