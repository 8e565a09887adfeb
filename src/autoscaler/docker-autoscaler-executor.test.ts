import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import type { Executor, ExecutorFactory, StageContext } from '../executors/executor.js';
import { executorJob, jobPayload } from '../../test/kits/executors/job-fixture.js';
import { systemClock } from '../shared/clock.js';
import { isFlotillaError } from '../shared/errors.js';
import { silentLogger } from '../shared/logger.js';
import { createAnnouncementBox, type AnnouncementBox } from './announcements.js';
import { createDockerAutoscalerExecutorFactory } from './docker-autoscaler-executor.js';
import type { ConnectInfo } from './providers/provider.js';
import type { Lease, Taskscaler } from './taskscaler.js';

/**
 * Machines m1, m2, ... handed out in order; `dead` machines do not answer pings, and a stage on a
 * dead machine never settles until aborted (a killed engine whose connections never close).
 */
function world(announcements?: AnnouncementBox) {
  const dead = new Set<string>();
  const announced: boolean[] = [];
  const calls: string[] = [];
  const releases: string[] = [];
  const fronts: boolean[] = [];
  let n = 0;
  const scaler: Pick<Taskscaler, 'acquire'> = {
    async acquire(_job, options) {
      fronts.push(options?.front === true);
      announced.push(options?.announced === true);
      const id = `m${++n}`;
      const connect: ConnectInfo = { id, internalAddr: id, externalAddr: id, dockerHost: `tcp://${id}:2375` };
      return {
        key: `p/${id}`,
        connect,
        lost: false,
        started: () => undefined,
        release: (o?: { broken?: boolean }) => void releases.push(`${id}${o?.broken ? ' broken' : ''}`),
      } satisfies Lease;
    },
  };
  const onDeadMachine = (signal: AbortSignal): Promise<never> =>
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  const machineExecutors = (connect: ConnectInfo): ExecutorFactory => ({
    name: 'docker',
    shell: 'bash',
    features: {},
    create: (): Executor => ({
      async prepare(ctx) {
        calls.push(`${connect.id}:prepare`);
        if (dead.has(connect.id)) await onDeadMachine(ctx.signal);
      },
      async runStage(stage, ctx) {
        calls.push(`${connect.id}:${stage}`);
        if (dead.has(connect.id)) return onDeadMachine(ctx.signal);
        if (stage === 'upload_artifacts_on_success') throw new Error('artifacts upload refused');
        if (stage === 'step_script' && connect.id === 'm1') {
          dead.add('m1'); // dies in the middle of the script
          return onDeadMachine(ctx.signal);
        }
        return { exitCode: 0 };
      },
      async cleanup() {
        calls.push(`${connect.id}:cleanup`);
      },
    }),
  });
  const factory = createDockerAutoscalerExecutorFactory({
    scaler,
    docker: {},
    logger: silentLogger(),
    registry: new Registry(),
    clock: systemClock,
    version: '0.0.0',
    liveness: { intervalMs: 10, timeoutMs: 10, failures: 2 },
    ping: async (c) => {
      if (dead.has(c.id)) throw new Error('connect EHOSTUNREACH');
    },
    machineExecutors,
    ...(announcements ? { announcements } : {}),
  });
  return { dead, calls, releases, fronts, announced, factory };
}

function context(signal = new AbortController().signal): StageContext & { log: () => string } {
  let text = '';
  return {
    output: { write: (c) => void (text += c.toString()) },
    signal,
    jobStatus: 'success',
    log: () => text,
  };
}

const job = executorJob('/builds', jobPayload({ id: 7 }));

describe('docker-autoscaler executor', () => {
  it('a machine lost mid-stage: the job moves to another machine, replays the finished stages, keeps its place', async () => {
    const w = world();
    const ex = w.factory.create(job);
    const ctx = context();
    await ex.prepare(ctx);
    await ex.runStage('prepare_script', ctx);
    await ex.runStage('get_sources', ctx);
    await expect(ex.runStage('step_script', ctx)).resolves.toEqual({ exitCode: 0 });
    await ex.cleanup();
    expect(w.calls).toEqual([
      'm1:prepare',
      'm1:prepare_script',
      'm1:get_sources',
      'm1:step_script',
      'm2:prepare',
      'm2:prepare_script',
      'm2:get_sources',
      'm2:step_script',
      'm2:cleanup',
    ]);
    expect(w.releases).toEqual(['m1 broken', 'm2']);
    expect(w.fronts).toEqual([false, true]);
    expect(ctx.log()).toContain(
      'WARNING: Machine m1 was lost (its Docker Engine did not answer 2 pings in a row (connect EHOSTUNREACH))',
    );
    expect(ctx.log()).toContain('Retrying the job on another machine from step_script (machine 2 of 3)');
    expect(ctx.log()).toContain(
      'Running the finished stages again on the new machine: prepare_script, get_sources',
    );
  });

  it('gives up after maxAttempts machines with FLO_ERR_MACHINE_LOST', async () => {
    const w = world();
    for (const id of ['m1', 'm2', 'm3']) w.dead.add(id);
    const ex = w.factory.create(job);
    const ctx = context();
    const err: unknown = await ex.prepare(ctx).catch((e: unknown) => e);
    expect(isFlotillaError(err, 'FLO_ERR_MACHINE_LOST')).toBe(true);
    expect((err as Error).message).toBe(
      'machine m3 was lost: its Docker Engine did not answer 2 pings in a row (connect EHOSTUNREACH); gave up after 3 machines',
    );
    expect(w.releases).toEqual(['m1 broken', 'm2 broken', 'm3 broken']);
    expect(ctx.log()).toContain('machine 3 of 3');
    expect(ctx.log()).toContain('ERROR: Machine m3 was lost');
    await ex.cleanup();
  });

  it('a canceled stage is not retried on another machine', async () => {
    const w = world();
    const ex = w.factory.create(job);
    await ex.prepare(context());
    const cancel = new AbortController();
    const ctx = context(cancel.signal);
    const running = ex.runStage('step_script', ctx);
    cancel.abort(new Error('canceled'));
    await expect(running).rejects.toThrow('canceled');
    await ex.cleanup();
    expect(w.fronts).toEqual([false]);
    expect(ctx.log()).not.toContain('Retrying');
  });

  it("a stage error on a machine that still answers is the job's failure, not a retry", async () => {
    const w = world();
    const ex = w.factory.create(job);
    await ex.prepare(context());
    const ctx = context();
    await expect(ex.runStage('upload_artifacts_on_success', ctx)).rejects.toThrow('artifacts upload refused');
    await ex.cleanup();
    expect(w.fronts).toEqual([false]);
    expect(w.releases).toEqual(['m1']);
    expect(ctx.log()).not.toContain('Retrying');
  });

  it('a job the coordinator announced asks for its machine as announced, once (not on a retry)', async () => {
    const box = createAnnouncementBox();
    const w = world(box);
    expect(w.factory.announcements).toBe(box);
    box.jobs({ created: 4, next: 2, uncovered: 1 });
    expect(box.latest()).toEqual({ created: 4, next: 2, uncovered: 1 });
    box.jobAnnounced(7);
    const ex = w.factory.create(job);
    const ctx = context();
    await ex.prepare(ctx);
    await ex.runStage('step_script', ctx);
    await ex.cleanup();
    // m1 dies mid-script: the retry on m2 keeps its place and is not a new arrival.
    expect(w.fronts).toEqual([false, true]);
    expect(w.announced).toEqual([true, false]);
    const other = w.factory.create(executorJob('/builds', jobPayload({ id: 8 })));
    await other.prepare(context());
    await other.cleanup();
    expect(w.announced).toEqual([true, false, false]);
    // Without the setting the factory asks for no announcements.
    expect(world().factory.announcements).toBeUndefined();
  });
});
