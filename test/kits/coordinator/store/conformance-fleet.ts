/**
 * The Store contract for the runner managers' fleet reports, the provider pauses asked for and the
 * fleet samples (`store/port/runners.ts`). Run by every adapter next to `describeStoreConformance`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { FleetReportRecord } from '../../../../src/coordinator/store/port/runners.js';
import type { Store } from '../../../../src/coordinator/store/store.js';
import { newRunner } from './conformance.js';

function report(systemId: string, at: Date, paused: boolean): FleetReportRecord {
  return {
    runnerId: 7,
    systemId,
    runnerName: 'autoscaled',
    providers: [
      { name: 'aws', backup: false, paused, failing: false, backoff: false, manual: 'auto', errors: 2 },
    ],
    machines: [
      {
        id: 'aws/i-1',
        provider: 'aws',
        zone: 'eu-1a',
        state: 'acquired',
        age_seconds: 61.5,
        use_count: 3,
        jobs: ['job-9'],
      },
    ],
    reportedAt: at,
  };
}

export function describeFleetConformance(name: string, factory: () => Promise<Store>): void {
  describe(`Store conformance (fleet reports): ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await (store as Store | undefined)?.close();
    });

    it('keeps the latest report per runner and manager, round-tripping it exactly', async () => {
      const t1 = new Date('2026-01-02T03:04:05.000Z');
      const t2 = new Date('2026-01-02T03:04:10.000Z');
      await store.saveFleetReport(report('s_b', t1, false));
      await store.saveFleetReport(report('s_a', t1, false));
      await store.saveFleetReport(report('s_b', t2, true));
      await store.saveFleetReport({ ...report('s_a', t1, false), runnerId: 8 });
      const reports = await store.listFleetReports(7);
      expect(reports).toEqual([report('s_a', t1, false), report('s_b', t2, true)]);
      expect(await store.listFleetReports(99)).toEqual([]);
    });

    it("lists every registered runner's reports in one call, by runner and manager", async () => {
      const t1 = new Date('2026-01-02T03:04:05.000Z');
      const a = await store.createRunner(newRunner('fleet-a'));
      const b = await store.createRunner(newRunner('fleet-b'));
      const of = (runnerId: number, systemId: string) => ({ ...report(systemId, t1, false), runnerId });
      await store.saveFleetReport(of(b.id, 's_b'));
      await store.saveFleetReport(of(a.id, 's_b'));
      await store.saveFleetReport(of(a.id, 's_a'));
      // A deleted runner's reports stay behind: they are not listed.
      await store.saveFleetReport(of(b.id + 1000, 's_c'));
      expect(await store.listFleetReports()).toEqual([of(a.id, 's_a'), of(a.id, 's_b'), of(b.id, 's_b')]);
    });

    it('keeps the latest pause asked for per runner and provider', async () => {
      const t1 = new Date('2026-01-02T03:04:05.000Z');
      const t2 = new Date('2026-01-02T03:05:00.000Z');
      await store.setProviderWant({
        runnerId: 7,
        provider: 'gcp',
        manual: 'paused',
        requestedAt: t1,
        userId: 1,
      });
      await store.setProviderWant({
        runnerId: 7,
        provider: 'aws',
        manual: 'paused',
        requestedAt: t1,
        userId: 1,
      });
      const latest = await store.setProviderWant({
        runnerId: 7,
        provider: 'aws',
        manual: 'auto',
        requestedAt: t2,
        userId: 2,
      });
      expect(latest.manual).toBe('auto');
      expect(await store.listProviderWants(7)).toEqual([
        { runnerId: 7, provider: 'aws', manual: 'auto', requestedAt: t2, userId: 2 },
        { runnerId: 7, provider: 'gcp', manual: 'paused', requestedAt: t1, userId: 1 },
      ]);
      expect(await store.listProviderWants(8)).toEqual([]);
    });

    it('keeps one fleet sample per slot (the first), oldest first, and deletes those before the window', async () => {
      const sample = (slot: number, machines: number) => ({
        slot,
        at: new Date(Date.UTC(2026, 0, 2) + slot * 1000 + machines),
        pending: slot % 7,
        oldestWaitSeconds: slot * 2,
        machines,
      });
      await store.addFleetSample(sample(10, 1), 0);
      await store.addFleetSample(sample(10, 2), 0); // another replica, same slot: the first stands
      await store.addFleetSample(sample(12, 1), 0);
      await store.addFleetSample(sample(11, 1), 0);
      expect(await store.listFleetSamples(0)).toEqual([sample(10, 1), sample(11, 1), sample(12, 1)]);
      expect(await store.listFleetSamples(11)).toEqual([sample(11, 1), sample(12, 1)]);
      await store.addFleetSample(sample(13, 1), 12);
      expect(await store.listFleetSamples(0)).toEqual([sample(12, 1), sample(13, 1)]);
    });
  });
}
