/**
 * Property-based fuzzing of the pipeline engine with a fixed seed (FLOTILLA_FUZZ_SEED overrides it,
 * FLOTILLA_FUZZ_RUNS the number of inputs): compile and lint never throw, and every error of an
 * invalid file carries a file:line:column. The longer run is `npm run bench -- --only fuzz`.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';

import { anyPipeline } from '../../harness/fuzz/pipeline-arbitraries.js';
import { checkPipelineText } from '../../harness/fuzz/pipeline-property.js';

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
