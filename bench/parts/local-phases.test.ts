import { describe, expect, it } from 'vitest';

import { runPhases } from './local-phases.js';

const log = [
  'Executor: shell (as asked)',
  '2026-11-29T20:40:17.561Z INFO  store migrated name="flotilla"',
  '2026-11-29T20:40:18.014Z INFO  runner manager started name="flotilla" runners=1',
  '2026-11-29T20:40:18.780Z INFO  pipeline created name="flotilla" pipelineId=1',
  '2026-11-29T20:40:19.050Z INFO  job assigned to runner name="flotilla" jobId=1',
  'hello        | hello',
  '2026-11-29T20:40:19.548Z INFO  job finished name="flotilla" jobId=1',
  '2026-11-29T20:40:19.600Z INFO  job assigned to runner name="flotilla" jobId=2',
  '2026-11-29T20:40:20.100Z INFO  job finished name="flotilla" jobId=2',
].join('\n');

describe('flotilla run phases from --verbose timestamps', () => {
  it('splits spawn → exit into start, services, push, pickup, jobs and finish', () => {
    const spawned = Date.parse('2026-11-29T20:40:16.000Z');
    const exited = Date.parse('2026-11-29T20:40:20.300Z');
    expect(runPhases(log, spawned, exited)).toEqual({
      start: 1561,
      services: 453,
      push: 766,
      pickup: 270,
      jobs: 1050,
      finish: 200,
    });
  });

  it('gives null when a mark is missing (e.g. the run failed before any job)', () => {
    expect(runPhases(log.split('\n').slice(0, 4).join('\n'), 0, 1)).toBeNull();
  });
});
