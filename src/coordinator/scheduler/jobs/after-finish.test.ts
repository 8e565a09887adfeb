import { describe, expect, it } from 'vitest';

import { extractCoverage } from './after-finish.js';

describe('extractCoverage', () => {
  it.each([
    ['Coverage: 85.12%\n', '/Coverage: \\d+\\.\\d+%/', 85.12],
    ['Lines: 10/20 Coverage: 50%\n', '/Coverage: \\d+%/', 50],
    ['total 1%\nmore\ntotal 77%\n', '/total \\d+%/', 77],
    ['nothing here\n', '/Coverage: \\d+/', null],
    ['TOTAL     120     40    67%\n', '/TOTAL.+ ([0-9]{1,3}%)/', 67],
    ['Coverage: 50% of 200 lines\n', '/Coverage: \\d+%/', 50],
    ['Coverage: 12.5\n', 'Coverage: \\d+', 12.5],
    // the runner's FF_TIMESTAMPS header is not part of the line: anchors and numbers ignore it
    ['2024-05-01T12:34:56.123456Z 01O Coverage: 42%\n', '/^Coverage: \\d+%$/', 42],
    ['2024-05-01T12:34:56.123456Z 01O TOTAL 9 3 67%\n', '/TOTAL.*/', 9],
  ])('%j with %s', (trace, pattern, expected) => {
    expect(extractCoverage(trace, pattern)).toBe(expected);
  });

  it('returns null for an invalid pattern instead of throwing', () => {
    expect(extractCoverage('x 1', '/(a/')).toBeNull();
  });
});
