/**
 * The fleet report extension over real HTTP: a runner manager's reporter (the real one, over a
 * stand-in fleet) reports providers and machines; `GET /runners/:id/providers` shows them; an
 * administrator's pause reaches the manager in the next answer and is written to the hand-set
 * pauses file once; errors for strangers, unknown runners and providers, and stale reports; the
 * coordinator's own samples for the fleet charts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createFleetReporter, type FleetReporterOptions } from '../../src/autoscaler/fleet-reporter.js';
import { autoscalerMetrics } from '../../src/autoscaler/metrics.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { TestApi } from '../../harness/api-client.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';

let c: TestCoordinator;
let dir: string;

beforeAll(async () => {
  c = await startTestCoordinator();
  dir = await mkdtemp(path.join(tmpdir(), 'flotilla-fleet-report-'));
});

afterAll(async () => {
  await c.stop();
  await rm(dir, { recursive: true, force: true });
});

function standInFleet(): FleetReporterOptions['fleet'] {
  const metrics = autoscalerMetrics(new Registry());
  metrics.providerErrors.inc({ runner: 'auto', provider: 'aws', operation: 'increase', kind: 'capacity' }, 3);
  const machine = { key: 'aws/i-1', state: 'ready', createdAtMs: Date.now() - 90_000, useCount: 2, busy: 1 };
  return {
    metrics,
    group: {
      status: () => [
        { name: 'aws', backup: false, paused: false, failing: true, backoff: false },
        { name: 'gcp', backup: true, paused: true, failing: false, backoff: false },
      ],
      connectInfo: () => Promise.resolve({ zone: 'eu-1a' }),
    },
    scaler: { machines: () => [{ ...machine, started: 1, lost: false, jobs: ['job-42'] }] },
  } as unknown as FleetReporterOptions['fleet'];
}

describe('runner fleet reports and provider pauses', () => {
  it('reports, shows, and carries an administrator pause to the manager once', async () => {
    const runner = await c.api.createRunner({ description: 'auto' });
    const controlPath = path.join(dir, 'fleet-control.json');
    const reporter = createFleetReporter({
      url: c.api.baseUrl,
      token: runner.token,
      systemId: 's_abc',
      runnerName: 'auto',
      fleet: standInFleet(),
      controlPath,
      clock: systemClock,
      logger: silentLogger(),
    });
    expect(await reporter.report()).toBe(true);
    const shown = await c.api.get(`/runners/${runner.id}/providers`);
    expect(shown.status, shown.text).toBe(200);
    const [manager] = shown.body.managers;
    expect(manager).toMatchObject({ system_id: 's_abc', runner_name: 'auto', stale: false });
    expect(manager.providers).toEqual([
      {
        name: 'aws',
        backup: false,
        paused: false,
        failing: true,
        backoff: false,
        manual: 'auto',
        errors: 3,
        // Reported within a second of the reporter's start: three errors in (at least) a minute.
        errors_per_minute: 3,
        wanted: null,
        applied: true,
      },
      {
        name: 'gcp',
        backup: true,
        paused: true,
        failing: false,
        backoff: false,
        manual: 'auto',
        errors: 0,
        errors_per_minute: 0,
        wanted: null,
        applied: true,
      },
    ]);
    expect(manager.machines).toEqual([
      {
        id: 'aws/i-1',
        provider: 'aws',
        zone: 'eu-1a',
        state: 'used',
        age_seconds: 90,
        use_count: 2,
        jobs: ['job-42'],
      },
    ]);

    const paused = await c.api.post(`/runners/${runner.id}/providers/aws/pause`);
    expect(paused.status, paused.text).toBe(202);
    expect(paused.body.managers[0].providers[0]).toMatchObject({
      wanted: { manual: 'paused' },
      applied: false,
    });
    await reporter.report();
    const control = JSON.parse(await readFile(controlPath, 'utf8'));
    expect(control.providers).toEqual({ aws: true });
    expect(Object.keys(control.applied)).toEqual(['aws']);
    // Applied once: a later CLI change (`flotilla fleet auto aws`) is not overridden.
    const { writeControl } = await import('../../src/autoscaler/state-store.js');
    await writeControl(controlPath, { providers: {}, applied: control.applied });
    await reporter.report();
    expect(JSON.parse(await readFile(controlPath, 'utf8')).providers).toEqual({});
  });

  it('refuses strangers, unknown runners and providers, and pauses nobody would apply', async () => {
    const runner = await c.api.createRunner({ description: 'stale' });
    const bad = await fetch(`${c.api.baseUrl}/api/v4/runners/fleet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'glrt-nope', system_id: 's_x', providers: [], machines: [] }),
    });
    expect(bad.status).toBe(403);
    expect((await c.api.post(`/runners/99999/providers/aws/pause`)).status).toBe(404);
    const unknown = await c.api.post(`/runners/${runner.id}/providers/aws/pause`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toMatch(/Provider Not Found/);
    await c.running.store.saveFleetReport({
      runnerId: runner.id,
      systemId: 's_old',
      runnerName: 'stale',
      providers: [
        {
          name: 'aws',
          backup: false,
          paused: false,
          failing: false,
          backoff: false,
          manual: 'auto',
          errors: 0,
        },
      ],
      machines: [],
      reportedAt: new Date(Date.now() - 5 * 60_000),
    });
    const stale = await c.api.post(`/runners/${runner.id}/providers/aws/unpause`);
    expect(stale.status).toBe(409);
    expect(stale.text).toMatch(/no runner manager has reported/);
    const user = await c.api.post('/users', { username: 'fleetviewer', name: 'V' });
    const pat = await c.api.post(`/users/${user.body.id}/personal_access_tokens`, {
      name: 't',
      scopes: ['api'],
    });
    const viewer = new TestApi(c.api.baseUrl, pat.body.token);
    expect((await viewer.get(`/runners/${runner.id}/providers`)).status).toBe(200);
    expect((await viewer.post(`/runners/${runner.id}/providers/aws/pause`)).status).toBe(403);
  });

  it('keeps samples of the queue and the machines for the charts in the store', async () => {
    const answer = await c.api.until(async () => {
      const res = await c.api.get('/fleet/samples');
      return res.body.samples.length > 0 ? res.body : undefined;
    }, 'a first fleet sample');
    expect(answer.interval_seconds).toBe(15);
    expect(answer.samples[0]).toEqual({
      at: expect.any(String),
      pending: expect.any(Number),
      oldest_wait_seconds: expect.any(Number),
      machines: expect.any(Number),
    });
  });
});
