import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { configIssueLines } from './config-issues.js';

const schema = z.object({
  host: z.string().regex(/^tcp:\/\//, 'must look like "tcp://host:2376"'),
  token: z.string().min(10, 'is too short'),
  nested: z.object({ port: z.number() }),
});

describe('configIssueLines', () => {
  it('names each key with what is wrong and the value given, never a token', () => {
    const input = { host: 'ssh://x', token: 'glrt-abc', nested: { port: '80' } };
    const result = schema.safeParse(input);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(configIssueLines(result.error, input)).toEqual([
      '  host: must look like "tcp://host:2376" (got "ssh://x")',
      '  token: is too short',
      '  nested.port: Expected number, received string (got "80")',
    ]);
  });
});
