/**
 * A PostgreSQL backend lost under the store (an operator's `pg_terminate_backend`, a failover, a
 * pooler's cut), on a pool of ONE connection, so that a connection or a pool permit that were not
 * given back would stop the store for good. For each moment of loss, the call that was running
 * fails as "store unavailable" (answered 503 with Retry-After), nothing of it is stored, what was
 * committed before is intact, and the next call is served on a new connection.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/coordinator/store/create-store.js';
import type { Store } from '../../src/coordinator/store/store.js';
import { isStoreUnavailable } from '../../src/coordinator/store/unavailable.js';
import {
  claimOf,
  matchOf,
  newJob,
  newPipeline,
  newProject,
  newRunner,
} from '../kits/coordinator/store/conformance.js';

const PG_BASE_URL = process.env.FLOTILLA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('postgres: a backend lost under the store (pool of one)', () => {
  const tag = randomBytes(4).toString('hex');
  const schema = `flotilla_test_loss_${tag}`;
  /** The store's connections carry this name, so the test finds their backends. */
  const appName = `flotilla_loss_${tag}`;
  let admin: pg.Client;
  let store: Store;
  let projectId: number;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_BASE_URL, connectionTimeoutMillis: 5000 });
    await admin.connect().catch((err: unknown) => {
      throw new Error(`PostgreSQL is not reachable at ${PG_BASE_URL}: ${String(err)}`, { cause: err });
    });
  });

  beforeEach(async () => {
    store = await createStore(`${PG_BASE_URL}?schema=${schema}&pool_size=1&application_name=${appName}`);
    await store.ensureRootUser();
    projectId = (await store.createProject(newProject({ path: `p${randomBytes(3).toString('hex')}` }))).id;
  });

  afterEach(async () => {
    await store.close();
  });

  afterAll(async () => {
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  });

  /** Kills every backend of the store; answers how many there were. */
  async function killStoreBackends(): Promise<number> {
    const { rowCount } = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [appName],
    );
    return rowCount ?? 0;
  }

  /** Waits until one of the store's backends waits for a lock (the statement under test is running). */
  async function untilStoreWaitsForLock(): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const { rowCount } = await admin.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [appName],
      );
      if ((rowCount ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("the store's statement never waited for the test's lock");
  }

  /** Runs `call` while a second connection holds `lockSql`, and kills the store's backend meanwhile. */
  async function killedWhileWaiting<T>(lockSql: string, call: () => Promise<T>): Promise<unknown> {
    const holder = new pg.Client({ connectionString: PG_BASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(lockSql);
      const running = call().then(
        () => new Error('the call succeeded although its backend was killed'),
        (err: unknown) => err,
      );
      await untilStoreWaitsForLock();
      expect(await killStoreBackends()).toBe(1);
      return await running;
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  }

  it('serves the next call after its idle connection is killed, with what was committed intact', async () => {
    const { pipeline } = await store.createPipeline(newPipeline(projectId), [newJob('build')]);
    expect(await killStoreBackends()).toBe(1);
    // The pool drops the dead connection: no call fails for good, and the pipeline is there.
    expect((await readEventually(() => store.getPipeline(pipeline.id)))?.id).toBe(pipeline.id);
    const { pipeline: next } = await store.createPipeline(newPipeline(projectId), [newJob('test')]);
    expect(next.iid).toBe(pipeline.iid + 1);
  });

  it('fails a pipeline creation killed inside its transaction, stores none of it, and creates the next', async () => {
    const err = await killedWhileWaiting(`LOCK TABLE "${schema}".pipelines IN ACCESS EXCLUSIVE MODE`, () =>
      store.createPipeline(newPipeline(projectId), [newJob('build'), newJob('test')]),
    );
    expect(isStoreUnavailable(err), String(err)).toBe(true);
    const listed = await store.listPipelines(projectId, {}, { page: 1, perPage: 20 });
    expect(listed.items).toEqual([]);
    const { pipeline, jobs } = await store.createPipeline(newPipeline(projectId), [newJob('build')]);
    expect(pipeline.iid).toBe(1);
    expect(jobs.map((j) => j.name)).toEqual(['build']);
  });

  it('fails a claim killed while it waits, leaves the job pending, and lets the next claim take it', async () => {
    const runner = await store.createRunner(newRunner(`hash-${tag}`));
    const { jobs } = await store.createPipeline(newPipeline(projectId), [
      newJob('build', { status: 'pending' }),
    ]);
    const job = jobs[0];
    if (!job) throw new Error('no job created');
    const err = await killedWhileWaiting(`LOCK TABLE "${schema}".jobs IN ACCESS EXCLUSIVE MODE`, () =>
      store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('lost-claim')),
    );
    expect(isStoreUnavailable(err), String(err)).toBe(true);
    expect((await store.getJob(job.id))?.status).toBe('pending');
    const claimed = await store.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf('next-claim'));
    expect(claimed?.id).toBe(job.id);
    expect(claimed?.status).toBe('running');
  });

  it('fails a log append killed while it waits, stores none of its bytes, and takes the append again', async () => {
    const { jobs } = await store.createPipeline(newPipeline(projectId), [
      newJob('build', { status: 'running' }),
    ]);
    const job = jobs[0];
    if (!job) throw new Error('no job created');
    await store.appendTrace(job.id, 0, Buffer.from('first\n'));
    const err = await killedWhileWaiting(`LOCK TABLE "${schema}".jobs IN ACCESS EXCLUSIVE MODE`, () =>
      store.appendTrace(job.id, 6, Buffer.from('second\n')),
    );
    expect(isStoreUnavailable(err), String(err)).toBe(true);
    expect((await store.readTrace(job.id, 0)).toString()).toBe('first\n');
    await store.appendTrace(job.id, 6, Buffer.from('second\n'));
    expect((await store.readTrace(job.id, 0)).toString()).toBe('first\nsecond\n');
  });
});

/**
 * A read right after the kill may find the pool's connection dead before the pool noticed: it is
 * answered "unavailable" at most once, and the next try runs on a new connection.
 */
async function readEventually<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    return read();
  }
}
