import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { captureLogger } from '../../test/kits/coordinator/git/git-test-kit.js';
import { createFakeClock } from '../../test/kits/fake-clock.js';
import { isFlotillaError } from '../shared/errors.js';
import { createDemandModel, type DemandSettings, type DemandSnapshot } from './demand.js';
import {
  decodeDemand,
  demandHistory,
  demandPathFor,
  encodeDemand,
  readDemand,
  writeDemand,
} from './demand-store.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const settings: DemandSettings = {
  historyMs: HOUR,
  bucketMs: HOUR,
  days: 2,
  initialBootMs: 60_000,
  bootQuantile: 0.9,
  trendMs: 0,
  lastUseWithinMs: 0,
};

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'demand-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const snapshot: DemandSnapshot = {
  arrivals: [1_000, 1_000, 61_000, 3_601_000],
  firstMs: 1_000,
  boots: { local: [30_000, 45_000], cloud: [] },
  lastBootProvider: 'local',
  durations: [120_000],
};

describe('the predictive history file', () => {
  it('is named after the state file, beside it, and not like one (the cleaner reads autoscaler-*.json)', () => {
    expect(demandPathFor('/etc/flotilla/.flotilla/autoscaler-r1.json')).toBe(
      '/etc/flotilla/.flotilla/demand-autoscaler-r1.json',
    );
  });

  it('stores arrivals as gaps and reads back what it wrote', async () => {
    const file = encodeDemand('r1', snapshot, new Date('2026-12-07T10:00:00Z'));
    expect(file.arrivalsFrom).toBe(1_000);
    expect(file.arrivalGaps).toEqual([0, 60_000, 3_540_000]);
    const where = path.join(dir, 'sub', 'demand-autoscaler-r1.json');
    await writeDemand(where, file);
    expect(await readDemand(where)).toEqual(snapshot);
    expect((await stat(where)).mode & 0o777).toBe(0o600);
    const empty = {
      ...snapshot,
      arrivals: [],
      firstMs: null,
      boots: {},
      lastBootProvider: null,
      durations: [],
    };
    expect(decodeDemand(JSON.parse(JSON.stringify(encodeDemand('r1', empty, new Date(0)))))).toEqual(empty);
  });

  it('is absent at first, and names the wrong field of a damaged file', async () => {
    expect(await readDemand(path.join(dir, 'none.json'))).toBeNull();
    const file = encodeDemand('r1', snapshot, new Date(0));
    const wrong = (patch: object): unknown => ({ ...file, ...patch });
    expect(() => decodeDemand(wrong({ version: 2 }))).toThrow('version must be 1, got 2');
    expect(() => decodeDemand(wrong({ arrivalGaps: [1, -5] }))).toThrow('arrivalGaps must be a list');
    expect(() => decodeDemand(wrong({ boots: { local: ['x'] } }))).toThrow('boots.local must be a list');
    expect(() => decodeDemand(wrong({ firstMs: 'soon' }))).toThrow('firstMs must be a non-negative number');
    expect(() => decodeDemand(wrong({ lastBootProvider: 3 }))).toThrow('lastBootProvider must be a string');
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"version": 1, "boots": ');
    const err = await readDemand(bad).catch((e: unknown) => e);
    expect(isFlotillaError(err) && err.code).toBe('FLO_ERR_CONFIG_INVALID');
    expect(String(err)).toContain(bad);
  });
});

describe('a model restored from a snapshot', () => {
  it('forecasts as the model it was taken from, and drops arrivals older than the kept span', () => {
    const before = createDemandModel(settings);
    const start = 10 * DAY;
    // Yesterday from 01:00 on (watched since), a burst of 5 jobs at 09:00; today at 08:30, one job.
    before.arrival(start + HOUR);
    for (let i = 0; i < 5; i++) before.arrival(start + 9 * HOUR + i * 5_000);
    before.arrival(start + DAY + 8.5 * HOUR);
    before.boot('local', 40_000);
    before.jobDone(300_000);
    const now = start + DAY + 8.9 * HOUR;
    const after = createDemandModel(settings);
    after.restore(before.snapshot(), now);
    expect(after.forecast(now)).toEqual(before.forecast(now));
    // Yesterday's 09:00 burst counts in the coming hour: 5 jobs with counts 1..5, plus today's one.
    expect(after.forecast(now).bursts).toEqual([1, 1, 2, 3, 4, 5]);
    expect(after.forecast(now).bootMs).toBe(40_000);
    // Three days later every arrival is older than two days: none is kept.
    const later = createDemandModel(settings);
    later.restore(before.snapshot(), start + 4 * DAY);
    expect(later.snapshot().arrivals).toEqual([]);
    expect(later.snapshot().boots).toEqual({ local: [40_000] });
  });

  it("merges with what this process measured already: its arrivals, and its boots after the file's", () => {
    const model = createDemandModel(settings);
    model.arrival(5_000);
    model.boot('local', 50_000);
    model.restore(snapshot, 3_700_000);
    expect(model.snapshot()).toEqual({
      arrivals: [1_000, 1_000, 5_000, 61_000, 3_601_000],
      firstMs: 1_000,
      boots: { local: [30_000, 45_000, 50_000], cloud: [] },
      lastBootProvider: 'local',
      durations: [120_000],
    });
  });
});

describe('demandHistory', () => {
  it('restores at start, saves only what changed, and keeps going past a damaged file', async () => {
    const clock = createFakeClock(10 * DAY);
    const where = path.join(dir, 'demand-autoscaler-r1.json');
    const { logger, records } = captureLogger();
    const first = createDemandModel(settings);
    const history = demandHistory({ path: where, runner: 'r1', model: first, clock, logger });
    await history.restore();
    await history.save();
    expect(JSON.parse(await readFile(where, 'utf8'))).toMatchObject({ runner: 'r1', arrivalsFrom: null });
    first.arrival(clock.now().getTime());
    first.boot('local', 42_000);
    await history.save();
    await rm(where);
    // Nothing new since the last save: no write.
    await history.save();
    await expect(stat(where)).rejects.toThrow();
    first.jobDone(1_000);
    await history.save();

    const second = createDemandModel(settings);
    await demandHistory({ path: where, runner: 'r1', model: second, clock, logger }).restore();
    expect(second.snapshot()).toEqual(first.snapshot());
    expect(records.some((r) => r.msg === 'predictive history restored' && r.arrivals === 1)).toBe(true);

    await writeFile(where, 'not json');
    const third = createDemandModel(settings);
    await demandHistory({ path: where, runner: 'r1', model: third, clock, logger }).restore();
    expect(third.snapshot().arrivals).toEqual([]);
    expect(
      records.some((r) => r.level === 'warn' && String(r.msg).startsWith('ignoring the predictive history')),
    ).toBe(true);
  });
});
