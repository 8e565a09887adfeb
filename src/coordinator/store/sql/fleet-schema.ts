/** Kysely table types of the fleet reports, provider requests and samples (see `store/port/runners.ts`). */
import type { DbDate, DbJson } from './schema.js';

export interface RunnerFleetReportsTable {
  runner_id: number;
  system_id: string;
  runner_name: string | null;
  /** `{ providers, machines }` as reported. */
  report: DbJson;
  reported_at: DbDate;
}

export interface RunnerProviderWantsTable {
  runner_id: number;
  provider: string;
  manual: string;
  requested_at: DbDate;
  user_id: number;
}

export interface FleetSamplesTable {
  slot: number;
  at: DbDate;
  pending: number;
  oldest_wait_seconds: number;
  machines: number;
}
