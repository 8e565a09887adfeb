/**
 * The runner queue's bus on PostgreSQL: LISTEN/NOTIFY on one channel per schema, over one
 * dedicated connection, so a job queued through one coordinator wakes the long polls held by every
 * other coordinator of the same database at once (not at the end of their poll window).
 *
 * Best effort by design: a lost notification only delays a pickup to the end of a poll window (the
 * claim itself is always decided by the database), so errors are logged and the connection is
 * opened again; they never fail a request. Once listening again after a lost connection, the bus
 * tells this coordinator `{ kind: 'all' }` (what was missed is unknown): every runner's version
 * changes, so held long polls claim again, and the store's caches are emptied. A payload over PostgreSQL's 8000-byte limit is replaced
 * by `{ kind: 'all' }` (every runner's version changes).
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import type { Logger } from '../../../../shared/logger.js';
import type { QueueBus, QueueMessage } from '../../../scheduler/queue/runner-queue.js';

const MAX_PAYLOAD = 7900;
const RECONNECT_MS = 2000;

export interface PostgresQueueBus extends QueueBus {
  /** Resolves once the channel is listened to (or the first attempt failed and was logged). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

interface Envelope {
  /** The publishing process, so it skips its own messages. */
  o: string;
  m: QueueMessage;
}

/** `flotilla_queue` or `flotilla_queue_<schema>` (lowercase identifier characters only). */
export function channelName(schema: string | undefined): string {
  const suffix = (schema ?? '').toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return suffix ? `flotilla_queue_${suffix}`.slice(0, 63) : 'flotilla_queue';
}

function parseEnvelope(payload: string | undefined): Envelope | null {
  try {
    return JSON.parse(payload ?? '') as Envelope;
  } catch {
    return null;
  }
}

export function createPostgresQueueBus(options: {
  connectionString: string;
  schema: string | undefined;
  logger: Logger;
}): PostgresQueueBus {
  const origin = randomBytes(6).toString('hex');
  const channel = channelName(options.schema);
  const handlers: ((message: QueueMessage) => void)[] = [];
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  /** Notifications may have been missed since the connection was lost (or never opened). */
  let missed = false;

  function deliver(payload: string | undefined): void {
    const envelope = parseEnvelope(payload);
    if (envelope && envelope.o !== origin) for (const h of handlers) h(envelope.m);
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const next = new pg.Client({
      connectionString: options.connectionString,
      connectionTimeoutMillis: 10_000,
    });
    next.on('notification', (n) => deliver(n.payload));
    next.on('error', (err) => {
      options.logger.warn({ err: err.message }, 'queue notifications lost; reconnecting');
      scheduleReconnect(next);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      client = next;
      if (missed) {
        missed = false;
        options.logger.info({ channel }, 'queue notifications back; every runner looks for jobs again');
        // What was notified meanwhile is unknown: every runner's version changes, caches empty.
        for (const h of handlers) h({ kind: 'all' });
      }
    } catch (err) {
      options.logger.warn(
        { err: (err as Error).message, channel },
        'queue notifications unavailable; other coordinators wake runners at the end of their poll window',
      );
      scheduleReconnect(next);
    }
  }

  function scheduleReconnect(broken: pg.Client): void {
    missed = true;
    if (client === broken) client = null;
    void broken.end().catch(() => undefined);
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, RECONNECT_MS);
    retry.unref();
  }

  const ready = connect();

  return {
    ready,
    publish(message) {
      const current = client;
      if (!current) return;
      let payload = JSON.stringify({ o: origin, m: message } satisfies Envelope);
      if (payload.length > MAX_PAYLOAD)
        payload = JSON.stringify({ o: origin, m: { kind: 'all' } } satisfies Envelope);
      current.query('SELECT pg_notify($1, $2)', [channel, payload]).catch((err: unknown) => {
        options.logger.warn({ err: (err as Error).message }, 'queue notification not sent');
      });
    },
    subscribe(handler) {
      handlers.push(handler);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
