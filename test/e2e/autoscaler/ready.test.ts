/**
 * Machines that never become ready: `instance_ready_command` runs against each new machine's engine;
 * a machine that fails it is removed, counted and replaced, and the job runs on the first machine
 * that passes, or fails with the last ready failure once instance_acquire_timeout has passed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { dockerPayload, runDockerJob } from '../docker/harness.js';
import {
  destroyGroup,
  eventually,
  namespaces,
  requireTools,
  startTestFleet,
  type TestFleet,
} from './harness.js';

const GROUP = 'e2er';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-ready-'));
let t: TestFleet | undefined;

beforeAll(() => requireTools());

afterEach(async () => {
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  t = undefined;
});

afterAll(async () => {
  await destroyGroup(GROUP, dir);
  expect(await namespaces(GROUP)).toEqual([]);
});

function readyFailures(metrics: string): number {
  const m =
    /flotilla_autoscaler_scale_operations_total\{runner="e2er",operation="ready",result="failure"\} (\d+)/.exec(
      metrics,
    );
  return Number(m?.[1] ?? 0);
}

describe('machines that fail their ready check', () => {
  it('a machine failing instance_ready_command is removed and replaced; the job runs on the next one', async () => {
    const marker = join(dir, 'first-failed');
    t = await startTestFleet({
      group: GROUP,
      dir,
      autoscaler: {
        // the first machine fails (and leaves the marker); the next ones pass once their engine answers `docker info`
        instance_ready_command: `test -e ${marker} || { touch ${marker}; echo "first machine refused" >&2; exit 3; }; docker info >/dev/null`,
        max_use_count: 1,
      },
    });
    const fleet = t.fleet;
    const created: string[] = [];
    const watcher = setInterval(() => {
      for (const m of fleet.scaler.machines()) if (!created.includes(m.key)) created.push(m.key);
    }, 100);
    try {
      const run = await runDockerJob(t.factory, dockerPayload(['echo ran after a refused machine']));
      expect(run.outcome.state, run.log).toBe('success');
      expect(run.log).toContain('ran after a refused machine');
      const used = /Running on machine (flotilla-e2er-\d+)/.exec(run.log)?.[1];
      expect(created.length).toBeGreaterThanOrEqual(2);
      expect(`local/${used}`).not.toBe(created[0]);
    } finally {
      clearInterval(watcher);
    }
    expect(readyFailures(await t.registry.metrics())).toBe(1);
    await eventually('the refused machine removed', 120, async () => {
      const left = await namespaces(GROUP);
      return !left.includes((created[0] ?? '').split('/')[1] ?? '');
    });
  });

  it('machines that never pass are replaced until instance_acquire_timeout; the job fails naming why', async () => {
    t = await startTestFleet({
      group: GROUP,
      dir,
      autoscaler: {
        instance_ready_command: 'echo "probe says no" >&2; exit 1',
        instance_acquire_timeout: '30s',
      },
    });
    const run = await runDockerJob(t.factory, dockerPayload(['echo never runs']));
    expect(run.outcome.state, run.log).toBe('failed');
    expect(run.outcome.failureReason).toBe('runner_system_failure');
    expect(run.outcome.stage).toBe('prepare_executor');
    expect(run.outcome.message).toContain('no machine slot within 30s (instance_acquire_timeout)');
    expect(run.outcome.message).toMatch(
      /the last new machine was removed: machine local\/flotilla-e2er-\d+ failed its ready check: instance_ready_command exited 1: probe says no/,
    );
    expect(run.log).not.toContain('never runs\n');
    expect(readyFailures(await t.registry.metrics())).toBeGreaterThanOrEqual(2);
    const fleet = t.fleet;
    // no job waits any more: nothing is created and every refused machine goes
    await eventually('every refused machine removed', 120, async () => {
      return fleet.scaler.machines().length === 0 && (await namespaces(GROUP)).length === 0;
    });
  });
});
