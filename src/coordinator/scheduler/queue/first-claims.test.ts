/**
 * FirstClaims on a real (in-memory SQLite) store: the claims of a pipeline not known running read
 * it after the first claim's work ended; a pipeline known running is read at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../store/create-store.js';
import type { PipelineRecord, Store } from '../../store/store.js';
import { FirstClaims } from './first-claims.js';
import {
  testJob,
  testPipeline,
  testProject,
} from '../../../../test/kits/coordinator/scheduler/pipeline-fixtures.js';

let store: Store;
let pipeline: PipelineRecord;
let marked: Set<number>;
let claims: FirstClaims;
let reads: number;

beforeEach(async () => {
  store = await createMemoryStore();
  ({ pipeline } = await testPipeline(store, await testProject(store), [testJob('a'), testJob('b')]));
  marked = new Set();
  reads = 0;
  claims = new FirstClaims(
    (id) => {
      reads += 1;
      return store.getPipeline(id);
    },
    (id) => marked.has(id),
  );
});

afterEach(async () => {
  await store.close();
});

const running = (p: PipelineRecord) =>
  store.updatePipeline(p.id, { status: 'running', startedAt: new Date() }, [p.status]);

describe('FirstClaims', () => {
  it("takes the row read with the claim for a pipeline's first claim when no other claim is in progress", async () => {
    const alone = claims.ticket();
    const withClaim = { ...pipeline, status: 'pending' as const };
    expect(await alone.readPipeline(pipeline.id, withClaim)).toBe(withClaim);
    expect(reads).toBe(0);
    // A later claim of the pipeline still waits for it, as for a first claim that read.
    let later: PipelineRecord | null | undefined;
    const waiting = claims
      .ticket()
      .readPipeline(pipeline.id, withClaim)
      .then((p) => (later = p));
    await store.getPipeline(pipeline.id);
    expect(later).toBeUndefined();
    alone.done();
    await waiting;
    expect(reads).toBe(1);
  });

  it('reads the pipeline as before when other claims are in progress (they may wait on this one)', async () => {
    const other = claims.ticket();
    const first = claims.ticket();
    const withClaim = { ...pipeline, status: 'pending' as const };
    expect((await first.readPipeline(pipeline.id, withClaim))?.status).toBe('created');
    expect(reads).toBe(1);
    first.done();
    other.done();
    // Done twice counts once: the next claim is alone again.
    first.done();
    const next = claims.ticket();
    const { pipeline: fresh } = await testPipeline(store, pipeline.projectId, [testJob('c')]);
    expect(await next.readPipeline(fresh.id, fresh)).toBe(fresh);
    next.done();
  });

  it('lets a later claim read the pipeline only after the first claim is done', async () => {
    const first = claims.ticket();
    const second = claims.ticket();
    expect((await first.readPipeline(pipeline.id))?.status).toBe('created');
    let secondRead: PipelineRecord | null | undefined;
    const reading = second.readPipeline(pipeline.id).then((p) => (secondRead = p));
    // A read sent after it comes back first: the store runs reads in order, so the second claim's
    // read was not sent.
    await store.getPipeline(pipeline.id);
    expect(secondRead).toBeUndefined();
    // The first claim marks the pipeline running, then ends: the second reads what it wrote.
    await running(pipeline);
    marked.add(pipeline.id);
    first.done();
    await reading;
    expect(secondRead?.status).toBe('running');
    second.done();
  });

  it('releases the waiting claims when the first one ends without a write', async () => {
    const first = claims.ticket();
    await first.readPipeline(pipeline.id);
    const waiting = claims.ticket().readPipeline(pipeline.id);
    first.done();
    expect((await waiting)?.status).toBe('created');
  });

  it('reads at once a pipeline marked running here or already read running', async () => {
    await running(pipeline);
    const first = claims.ticket();
    expect((await first.readPipeline(pipeline.id))?.status).toBe('running');
    // The first ticket is not done, yet a later claim does not wait: the pipeline was read running.
    expect((await claims.ticket().readPipeline(pipeline.id))?.status).toBe('running');
    first.done();
    const { pipeline: other } = await testPipeline(store, pipeline.projectId, [testJob('c')]);
    marked.add(other.id);
    const held = claims.ticket();
    await held.readPipeline(other.id);
    expect((await claims.ticket().readPipeline(other.id))?.id).toBe(other.id);
    held.done();
  });

  it.each([
    ['before', true],
    ['after', false],
  ])(
    'gives a waiting claim the row the first claim wrote (it asked %s the write was sent)',
    async (_, asksFirst) => {
      const first = claims.ticket();
      await first.readPipeline(pipeline.id);
      const second = claims.ticket();
      const asking = asksFirst ? second.readPipeline(pipeline.id) : undefined;
      const written = await running(pipeline);
      if (written === null) throw new Error('the compare-and-set did not apply');
      const waiting = asking ?? second.readPipeline(pipeline.id);
      first.wrote(written);
      first.done();
      expect(await waiting).toBe(written);
      expect(reads).toBe(1);
      second.done();
    },
  );
});
