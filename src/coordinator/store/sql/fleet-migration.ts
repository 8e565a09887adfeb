/**
 * Migration 0005: the runner managers' fleet reports and the provider pauses asked for.
 * Migration 0006: the fleet samples behind the web UI's charts, shared by every replica.
 */
import type { Kysely, Migration } from 'kysely';

import type { SqlFlavor } from './flavor.js';
import { createTableFromSpec, type TableSpec } from './table-spec.js';

const FLEET_TABLES: readonly TableSpec[] = [
  {
    name: 'runner_fleet_reports',
    columns: [
      'runner_id integer!',
      'system_id text!',
      'runner_name text',
      'report text!',
      'reported_at date!',
    ],
    primaryKey: { runner_fleet_reports_pk: ['runner_id', 'system_id'] },
  },
  {
    name: 'runner_provider_wants',
    columns: [
      'runner_id integer!',
      'provider text!',
      'manual text!',
      'requested_at date!',
      'user_id integer!',
    ],
    primaryKey: { runner_provider_wants_pk: ['runner_id', 'provider'] },
  },
];

const FLEET_SAMPLES_TABLE: TableSpec = {
  name: 'fleet_samples',
  columns: [
    'slot integer pk',
    'at date!',
    'pending integer!',
    'oldest_wait_seconds integer!',
    'machines integer!',
  ],
};

export function runnerFleets(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const spec of FLEET_TABLES) await createTableFromSpec(db, flavor, spec).execute();
    },
  };
}

export function fleetSamples(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createTableFromSpec(db, flavor, FLEET_SAMPLES_TABLE).execute();
    },
  };
}
