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

function operations(metrics: string, operation: string, result: string): number {
  const line = `flotilla_autoscaler_scale_operations_total{runner="e2er",operation="${operation}",result="${result}"} `;
  const at = metrics.indexOf(line);
  return at < 0 ? 0 : Number.parseInt(metrics.slice(at + line.length), 10);
}

const readyFailures = (metrics: string): number => operations(metrics, 'ready', 'failure');

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
    // Counted by the scaler's metrics, not by machine keys: the local provider gives a new
    // machine the lowest free number, which is the refused machine's once its removal is done.
    const run = await runDockerJob(t.factory, dockerPayload(['echo ran after a refused machine']));
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toContain('ran after a refused machine');
    const registry = t.registry;
    expect(readyFailures(await registry.metrics())).toBe(1);
    expect(operations(await registry.metrics(), 'create', 'success')).toBeGreaterThanOrEqual(2);
    // max_use_count = 1: the machine that ran the job goes too, so both removals are awaited.
    await eventually('the refused machine and the used one removed', 120, async () => {
      return operations(await registry.metrics(), 'remove', 'success') >= 2;
    });
    expect(await namespaces(GROUP)).toEqual([]);
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
