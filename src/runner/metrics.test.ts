import { describe, expect, it } from 'vitest';

import { statusClass } from './metrics.js';

describe('statusClass', () => {
  it("groups statuses as gitlab-runner's status_class label does", () => {
    expect([200, 201, 204, 302, 404, 409, 500, 503].map(statusClass)).toEqual([
      '2xx',
      '2xx',
      '2xx',
      '3xx',
      '4xx',
      '4xx',
      '5xx',
      '5xx',
    ]);
    expect(statusClass(0)).toBe('unknown');
    expect(statusClass(99)).toBe('unknown');
  });
});
