/**
 * A network partition between the runner manager and a machine mid-job, with real machines of the
 * `local` provider: the host end of the machine's link is set down while the job's script runs on
 * it (its engine keeps running, but nothing reaches it: no FIN, no RST, the job's connections just
 * stop answering). What the user sees: the liveness watch declares the machine lost after
 * three unanswered pings, the job's log says so, and the job is retried on another machine from the
 * stage it was in and ends `success`; the cut-off machine is removed, and the cleaner's cycle then
 * finds no machine that no state knows (nothing leaked), no job lost.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { namespaceCreatedAt } from '../../../src/autoscaler/providers/local/netns.js';
import { dockerPayload, runDockerJob } from '../docker/harness.js';
import {
  destroyGroup,
  eventually,
  namespaces,
  requireTools,
  startTestFleet,
  type TestFleet,
} from './harness.js';

const run = promisify(execFile);
const GROUP = 'e2ecut';
let t: TestFleet | undefined;
let dir = '';

beforeAll(() => requireTools());

afterAll(async () => {
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  await destroyGroup(GROUP, dir || '/nonexistent');
  expect(await namespaces(GROUP)).toEqual([]);
});

/**
 * Cuts the machine off: the host end of its only link (`flv-<group>-<n>`) down. Inside, the machine
 * keeps its address and its engine runs; packets between them are dropped silently.
 */
async function partition(machine: string): Promise<void> {
  const n = machine.slice(machine.lastIndexOf('-') + 1);
  await run('ip', ['link', 'set', `flv-${GROUP}-${n}`, 'down']);
}

describe('network partition between manager and machine', () => {
  it('moves the job to another machine, removes the cut-off one, and leaks nothing', async () => {
    // orphan_min_age 0: the cleaner's cycle counts any machine no state knows, however young.
    t = await startTestFleet({
      group: GROUP,
      autoscaler: { max_instances: 3, cleaner: { interval: 0, orphan_min_age: 0 } },
    });
    dir = t.dir;
    const fleet = t.fleet;
    let cut = '';
    let cutAt = 0;
    const job = await runDockerJob(t.factory, dockerPayload(['echo start', 'sleep 6', 'echo finished']), {
      onStage: (stage) => {
        if (stage !== 'step_script' || cut) return;
        cut =
          fleet.scaler
            .machines()
            .find((x) => x.busy > 0)
            ?.key.split('/')[1] ?? '';
        setTimeout(() => {
          cutAt = Date.now();
          void partition(cut);
        }, 1500);
      },
    });
    expect(cut).not.toBe('');
    expect(job.outcome.state, job.log).toBe('success');
    expect(job.log).toContain(`WARNING: Machine ${cut} was lost`);
    const reason = job.log.match(/WARNING: Machine \S+ was lost \((.*)\)/)?.[1] ?? '';
    expect(reason).toMatch(/did not answer/);
    expect(job.log).toContain('Retrying the job on another machine from step_script (machine 2 of 3)');
    const machines = [...job.log.matchAll(/Running on machine (flotilla-e2ecut-\d+)/g)].map((m) => m[1]);
    expect(machines).toHaveLength(2);
    expect(job.log.indexOf('finished')).toBeGreaterThan(job.log.lastIndexOf('Running on machine'));
    // Its id may already serve a new machine: gone means absent or created after the cut.
    await eventually('the cut-off machine removed', 180, async () => {
      const created = await namespaceCreatedAt(cut);
      return created === null || created.getTime() > cutAt;
    });
    const report = await fleet.clean({ dryRun: false });
    expect(report.orphans.found).toEqual([]);
    const known = new Set(fleet.scaler.machines().map((m) => m.key.split('/')[1]));
    expect((await namespaces(GROUP)).filter((id) => !known.has(id))).toEqual([]);
    const metrics = await t.registry.metrics();
    expect(metrics).toMatch(
      /flotilla_autoscaler_scale_operations_total\{runner="e2ecut",operation="lost",result="success"\} [1-9]/,
    );
    console.log(
      `partition: ${cut} cut off mid-job, lost (${reason}); job success on ${machines[1]}; 0 leaked`,
    );
  });
});
