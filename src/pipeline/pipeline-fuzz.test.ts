/**
 * Property-based fuzzing of the pipeline engine with a fixed seed (FLOTILLA_FUZZ_SEED overrides it,
 * FLOTILLA_FUZZ_RUNS the number of inputs): compile and lint never throw, and every error of an
 * invalid file carries a file:line:column. The longer run is `npm run bench -- --only fuzz`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { anyPipeline } from '../../harness/fuzz/pipeline-arbitraries.js';
import { checkPipelineText, FUZZ_CONTEXT } from '../../harness/fuzz/pipeline-property.js';
import { compilePipeline } from './compile.js';

const SEED = Number(process.env['FLOTILLA_FUZZ_SEED'] ?? 20261205);
const RUNS = Number(process.env['FLOTILLA_FUZZ_RUNS'] ?? 300);

describe('pipeline engine fuzzing', () => {
  it('never crashes, and positions every error', async () => {
    await fc.assert(
      fc.asyncProperty(anyPipeline, async (text) => {
        await checkPipelineText(text);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 120_000);
});

describe('errors about the file as a whole carry a position too', () => {
  // the first two were found by `npm run bench:fuzz` without any position
  it.each([
    [
      'a header document that is not a map',
      '%YAML 1.1\n---\na1\n---\nj: {script: x}\n',
      'the header document should only contain spec',
      3,
      1,
    ],
    [
      'a third document',
      'spec: {}\n---\nj: {script: x}\n---\nk: {script: y}\n',
      'a configuration has at most two documents',
      5,
      1,
    ],
    ['a document that is not a map', '\n\n- a\n- b\n', 'Invalid configuration format', 3, 1],
    ['an empty file', '', 'Please provide content of .gitlab-ci.yml', 1, 1],
    [
      'no visible job',
      '\n.hidden:\n  script: x\n',
      'jobs config should contain at least one visible job',
      2,
      1,
    ],
    ['nesting too deep', `${'['.repeat(120)}${']'.repeat(120)}`, 'The parsed YAML is too deep', 1, 102],
  ])('%s', async (_name, text, message, line, column) => {
    const result = await compilePipeline(text, FUZZ_CONTEXT);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const error = result.errors.find((e) => e.message.includes(message));
    expect(error, JSON.stringify(result.errors)).toBeDefined();
    expect(error?.position).toEqual({ file: '.gitlab-ci.yml', line, column });
    await checkPipelineText(text);
  });
});
