/**
 * Kysely table types. Column value types are the union of what the two dialects hand back:
 * SQLite stores dates as ISO-8601 text and booleans as 0/1, PostgreSQL uses timestamptz and
 * boolean, and PostgreSQL returns bigint columns and counts as strings. `rows.ts` turns these into
 * the port's records; `flavor.ts` turns the port's values into what each dialect binds.
 */
import type { ColumnType, Generated } from 'kysely';

import type { FleetSamplesTable, RunnerFleetReportsTable, RunnerProviderWantsTable } from './fleet-schema.js';

/** A timestamp: Date from PostgreSQL, ISO text from SQLite. */
export type DbDate = ColumnType<Date | string, Date | string, Date | string>;
export type DbDateNull = ColumnType<Date | string | null, Date | string | null, Date | string | null>;
/** A boolean: boolean from PostgreSQL, 0/1 from SQLite. */
export type DbBool = ColumnType<boolean | number, boolean | number, boolean | number>;
/** A 64-bit integer: string from PostgreSQL, number from SQLite. */
export type DbBigint = ColumnType<number | string, number, number>;
/** JSON stored as text in both dialects, so it round-trips byte for byte. */
export type DbJson = string;

export interface UsersTable {
  id: Generated<number>;
  username: string;
  name: string;
  admin: DbBool;
  created_at: DbDate;
}

export interface AccessTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  scopes: DbJson;
  created_at: DbDate;
  expires_at: DbDateNull;
  revoked: DbBool;
}

export interface ProjectsTable {
  id: Generated<number>;
  name: string;
  path: string;
  namespace_path: string;
  description: string | null;
  default_branch: string;
  visibility: string;
  ci_config_path: string | null;
  protected_branches: DbJson;
  creator_id: number;
  created_at: DbDate;
  last_activity_at: DbDate;
}

export interface RunnersTable {
  id: Generated<number>;
  token_hash: string;
  description: string;
  tag_list: DbJson;
  run_untagged: DbBool;
  paused: DbBool;
  locked: DbBool;
  access_level: string;
  maximum_timeout: number | null;
  runner_type: string;
  maintenance_note: string | null;
  created_at: DbDate;
  contacted_at: DbDateNull;
  version: string | null;
  revision: string | null;
  platform: string | null;
  architecture: string | null;
  executor: string | null;
  ip_address: string | null;
}

export interface PipelinesTable {
  id: Generated<number>;
  iid: number;
  project_id: number;
  ref: string;
  sha: string;
  before_sha: string;
  tag: DbBool;
  source: string;
  status: string;
  yaml_errors: string | null;
  name: string | null;
  stages: DbJson;
  yaml_variables: DbJson;
  variables: DbJson;
  user_id: number;
  created_at: DbDate;
  updated_at: DbDate;
  started_at: DbDateNull;
  finished_at: DbDateNull;
  committed_at: DbDateNull;
  /** Since 0003_child_pipelines. */
  parent_pipeline_id: number | null;
  parent_job_id: number | null;
}

export interface JobsTable {
  id: Generated<number>;
  pipeline_id: number;
  project_id: number;
  name: string;
  stage: string;
  stage_idx: number;
  status: string;
  when: string;
  allow_failure: DbBool;
  definition: DbJson;
  tag_list: DbJson;
  protected: DbBool;
  runner_id: number | null;
  runner_system_id: string | null;
  token_hash: string | null;
  retry_of_id: number | null;
  retried: DbBool;
  user_id: number;
  created_at: DbDate;
  updated_at: DbDate;
  queued_at: DbDateNull;
  started_at: DbDateNull;
  finished_at: DbDateNull;
  last_seen_at: DbDateNull;
  timeout_seconds: number | null;
  failure_reason: string | null;
  exit_code: number | null;
  trace_size: DbBigint;
  trace_checksum: string | null;
  coverage: number | null;
  /** `build` or `bridge` (since 0003_child_pipelines; older rows are builds). */
  kind: string;
  /** Since 0004_job_erasure. */
  erased_at: DbDateNull;
}

/** One appended piece of a job log; `end_offset` = `offset` + byte length, for range reads. */
export interface TraceChunksTable {
  job_id: number;
  offset: DbBigint;
  end_offset: DbBigint;
  data: Buffer;
}

export interface ArtifactsTable {
  id: Generated<number>;
  job_id: number;
  file_type: string;
  file_format: string;
  filename: string;
  size: DbBigint;
  storage_key: string;
  created_at: DbDate;
  expire_at: DbDateNull;
}

export interface VariablesTable {
  project_id: number;
  key: string;
  value: string;
  variable_type: string;
  protected: DbBool;
  masked: DbBool;
  raw: DbBool;
  environment_scope: string;
  description: string | null;
}

/** Since 0002_test_reports_environments: GitLab environments, unique by (project, name). */
export interface EnvironmentsTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  slug: string;
  external_url: string | null;
  state: string;
  tier: string;
  created_at: DbDate;
  updated_at: DbDate;
}

/**
 * Since 0002_test_reports_environments: one row per job with `environment:` that ran. Rows of
 * `action: start` jobs are GitLab deployments (with a per-project iid); the others only link the
 * job to its environment (iid null) and are never listed as deployments.
 */
export interface DeploymentsTable {
  id: Generated<number>;
  iid: number | null;
  project_id: number;
  environment_id: number;
  job_id: number;
  pipeline_id: number;
  action: string;
  ref: string;
  sha: string;
  tag: DbBool;
  status: string;
  user_id: number;
  created_at: DbDate;
  updated_at: DbDate;
  finished_at: DbDateNull;
}

export interface Database {
  users: UsersTable;
  access_tokens: AccessTokensTable;
  projects: ProjectsTable;
  runners: RunnersTable;
  pipelines: PipelinesTable;
  jobs: JobsTable;
  trace_chunks: TraceChunksTable;
  artifacts: ArtifactsTable;
  variables: VariablesTable;
  environments: EnvironmentsTable;
  deployments: DeploymentsTable;
  runner_fleet_reports: RunnerFleetReportsTable;
  runner_provider_wants: RunnerProviderWantsTable;
  fleet_samples: FleetSamplesTable;
}
