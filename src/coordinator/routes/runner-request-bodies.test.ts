import { describe, expect, it } from 'vitest';

import { jobRequestSchema, updateJobRequestSchema } from '../../api/runner-api.js';
import { quickJobRequest, quickUpdateJobRequest } from './runner-request-bodies.js';

const info = {
  name: 'gitlab-runner',
  version: '17.5.0',
  revision: 'abc',
  platform: 'linux',
  architecture: 'amd64',
  executor: 'docker',
  shell: 'bash',
  features: { variables: true, trace_checksum: true },
  labels: { zone: 'a' },
  config: { gpus: '', nested: { a: [1] } },
  extra: 'kept',
};

const jobRequests: unknown[] = [
  { token: 'glrt-x', info, last_update: '12', system_id: 's_1', unknown: 1 },
  { token: 'glrt-x' },
  { token: 'glrt-x', session: null },
  { token: 'glrt-x', session: { url: 'u' } },
  { token: '' },
  { token: 1 },
  {},
  null,
  [],
  'text',
  { token: 'glrt-x', last_update: null },
  { token: 'glrt-x', system_id: 3 },
  { token: 'glrt-x', info: null },
  { token: 'glrt-x', info: [] },
  { token: 'glrt-x', info: { ...info, version: 1 } },
  { token: 'glrt-x', info: { ...info, features: { a: 'yes' } } },
  { token: 'glrt-x', info: { ...info, labels: { a: 1 } } },
  { token: 'glrt-x', info: { ...info, config: [] } },
  { token: 'glrt-x', info: { ...info, features: null } },
];

const updates: unknown[] = [
  {
    token: 'glcbt-x',
    state: 'success',
    exit_code: 0,
    checksum: 'c',
    output: { checksum: 'c', bytesize: 2048, x: 1 },
    info,
  },
  { token: 'glcbt-x', state: 'failed', failure_reason: 'script_failure', exit_code: 1 },
  { state: 'running' },
  {},
  { state: 'done' },
  { state: null },
  { exit_code: 1.5 },
  { exit_code: '1' },
  { output: { bytesize: -1 } },
  { output: { bytesize: 1.5 } },
  { output: null },
  { output: { checksum: 3 } },
  { token: 3 },
  { failure_reason: null },
  { info: { version: 2 } },
  null,
  [1],
];

function agrees(
  quick: (b: unknown) => unknown,
  schema: { safeParse(v: unknown): { success: boolean; data?: unknown } },
  bodies: unknown[],
): number {
  let quickCount = 0;
  for (const body of bodies) {
    const fast = quick(body);
    const slow = schema.safeParse(body);
    if (fast === undefined) continue;
    quickCount++;
    expect(slow.success, JSON.stringify(body)).toBe(true);
    expect(fast, JSON.stringify(body)).toStrictEqual(slow.data);
  }
  return quickCount;
}

describe('runner request bodies without zod', () => {
  it('accepts only what jobRequestSchema accepts, and returns what it returns', () => {
    expect(agrees(quickJobRequest, jobRequestSchema, jobRequests)).toBe(4);
  });

  it('accepts only what updateJobRequestSchema accepts, and returns what it returns', () => {
    expect(agrees(quickUpdateJobRequest, updateJobRequestSchema, updates)).toBe(4);
  });

  it('leaves every body zod refuses to zod', () => {
    for (const body of jobRequests)
      if (!jobRequestSchema.safeParse(body).success) expect(quickJobRequest(body)).toBeUndefined();
    for (const body of updates)
      if (!updateJobRequestSchema.safeParse(body).success)
        expect(quickUpdateJobRequest(body)).toBeUndefined();
  });
});
