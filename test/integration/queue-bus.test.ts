/**
 * The runner queue's PostgreSQL bus for real: two coordinators' buses on one database (LISTEN/
 * NOTIFY on the schema's channel) pass queue messages to each other, never back to the sender, and
 * not to a bus of another schema. Needs the test PostgreSQL (scripts/test-env.sh); never skipped.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { silentLogger } from '../../src/shared/logger.js';
import {
  RunnerQueue,
  type QueueMatch,
  type QueueMessage,
} from '../../src/coordinator/scheduler/queue/runner-queue.js';
import {
  channelName,
  createPostgresQueueBus,
  type PostgresQueueBus,
} from '../../src/coordinator/store/sql/postgres/queue-bus.js';

const PG_URL = process.env.FLOTILLA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const buses: PostgresQueueBus[] = [];

async function bus(schema: string): Promise<{ bus: PostgresQueueBus; got: QueueMessage[] }> {
  const b = createPostgresQueueBus({ connectionString: PG_URL, schema, logger: silentLogger() });
  buses.push(b);
  await b.ready;
  const got: QueueMessage[] = [];
  b.subscribe((m) => got.push(m));
  return { bus: b, got };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
});

describe('PostgreSQL queue bus', () => {
  it('delivers a message to the other coordinators of the schema only', async () => {
    const schema = `qbus_${process.pid}`;
    const a = await bus(schema);
    const b = await bus(schema);
    const other = await bus(`${schema}_other`);
    const message: QueueMessage = { kind: 'jobs', jobs: [{ tagList: ['gpu'], protected: true }] };
    a.bus.publish(message);
    b.bus.publish({ kind: 'runner', runnerId: 7 });
    await until('both messages to arrive', () => b.got.length === 1 && a.got.length === 1);
    expect(b.got).toEqual([message]);
    expect(a.got).toEqual([{ kind: 'runner', runnerId: 7 }]);
    // A third message proves the earlier ones were not echoed: it arrives, and nothing else did.
    a.bus.publish({ kind: 'all' });
    await until('the third message', () => b.got.length === 2);
    expect(a.got).toHaveLength(1);
    expect(other.got).toEqual([]);
  });

  it('sends "all" instead of a payload over the NOTIFY limit', async () => {
    const schema = `qbus_big_${process.pid}`;
    const a = await bus(schema);
    const b = await bus(schema);
    const jobs = Array.from({ length: 2000 }, (_, i) => ({ tagList: [`tag-${i}`], protected: false }));
    a.bus.publish({ kind: 'jobs', jobs });
    await until('the message', () => b.got.length === 1);
    expect(b.got).toEqual([{ kind: 'all' }]);
  });

  it('tells its own coordinator "all" once it listens again after a lost connection', async () => {
    const schema = `qbus_lost_${process.pid}`;
    const a = await bus(schema);
    const queue = new RunnerQueue(a.bus);
    const match: QueueMatch = { tagList: [], runUntagged: true, accessLevel: 'not_protected' };
    const before = queue.version(1, match);
    // The listening connection dies (a PostgreSQL restart, a failover, a pooler's cut): what was
    // notified meanwhile is lost, so every runner's version must change once it listens again.
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()',
        [`LISTEN ${channelName(schema)}`],
      );
      expect(rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    await until('the bus to listen again', () => a.got.length === 1);
    expect(a.got).toEqual([{ kind: 'all' }]);
    expect(queue.version(1, match)).not.toBe(before);
  });

  it('names one channel per schema, as a plain identifier', () => {
    expect(channelName(undefined)).toBe('flotilla_queue');
    expect(channelName('Bench-1')).toBe('flotilla_queue_bench_1');
  });
});
