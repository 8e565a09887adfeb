/**
 * Migration 0005: the runner managers' fleet reports and the provider pauses asked for.
 * Migration 0006: the fleet samples behind the web UI's charts, shared by every replica.
 */
import type { Kysely, Migration } from 'kysely';

import type { SqlFlavor } from './flavor.js';

export function runnerFleets(flavor: SqlFlavor): Migration {
  const date = flavor.columnTypes.date;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('runner_fleet_reports')
        .addColumn('runner_id', 'integer', (c) => c.notNull())
        .addColumn('system_id', 'text', (c) => c.notNull())
        .addColumn('runner_name', 'text')
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('reported_at', date, (c) => c.notNull())
        .addPrimaryKeyConstraint('runner_fleet_reports_pk', ['runner_id', 'system_id'])
        .execute();
      await db.schema
        .createTable('runner_provider_wants')
        .addColumn('runner_id', 'integer', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('manual', 'text', (c) => c.notNull())
        .addColumn('requested_at', date, (c) => c.notNull())
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('runner_provider_wants_pk', ['runner_id', 'provider'])
        .execute();
    },
  };
}

export function fleetSamples(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('fleet_samples')
        .addColumn('slot', 'integer', (c) => c.primaryKey())
        .addColumn('at', flavor.columnTypes.date, (c) => c.notNull())
        .addColumn('pending', 'integer', (c) => c.notNull())
        .addColumn('oldest_wait_seconds', 'integer', (c) => c.notNull())
        .addColumn('machines', 'integer', (c) => c.notNull())
        .execute();
    },
  };
}
