/**
 * Record → row mapping for writes, table-driven: each record field names its column and how its
 * value is bound (dates and booleans differ per dialect, JSON is text in both). Used for inserts
 * and for partial patches alike; `undefined` fields are left out, `null` clears a column.
 */
import type {
  JobPatch,
  NewJob,
  NewPipeline,
  NewRunner,
  PipelinePatch,
  RunnerPatch,
  VariableRecord,
} from '../store.js';
import type { SqlFlavor } from './flavor.js';

type Kind = 'plain' | 'bool' | 'date' | 'json';
export type ColumnMap<K extends string> = Record<K, readonly [column: string, kind: Kind]>;

export const RUNNER_COLUMNS: ColumnMap<keyof NewRunner | keyof RunnerPatch> = {
  tokenHash: ['token_hash', 'plain'],
  description: ['description', 'plain'],
  tagList: ['tag_list', 'json'],
  runUntagged: ['run_untagged', 'bool'],
  paused: ['paused', 'bool'],
  locked: ['locked', 'bool'],
  accessLevel: ['access_level', 'plain'],
  maximumTimeout: ['maximum_timeout', 'plain'],
  runnerType: ['runner_type', 'plain'],
  maintenanceNote: ['maintenance_note', 'plain'],
  contactedAt: ['contacted_at', 'date'],
  version: ['version', 'plain'],
  revision: ['revision', 'plain'],
  platform: ['platform', 'plain'],
  architecture: ['architecture', 'plain'],
  executor: ['executor', 'plain'],
  ipAddress: ['ip_address', 'plain'],
};

export const PIPELINE_COLUMNS: ColumnMap<keyof NewPipeline | keyof PipelinePatch> = {
  projectId: ['project_id', 'plain'],
  ref: ['ref', 'plain'],
  sha: ['sha', 'plain'],
  beforeSha: ['before_sha', 'plain'],
  tag: ['tag', 'bool'],
  source: ['source', 'plain'],
  status: ['status', 'plain'],
  yamlErrors: ['yaml_errors', 'plain'],
  name: ['name', 'plain'],
  stages: ['stages', 'json'],
  yamlVariables: ['yaml_variables', 'json'],
  variables: ['variables', 'json'],
  userId: ['user_id', 'plain'],
  createdAt: ['created_at', 'date'],
  startedAt: ['started_at', 'date'],
  finishedAt: ['finished_at', 'date'],
  committedAt: ['committed_at', 'date'],
  parentPipelineId: ['parent_pipeline_id', 'plain'],
  parentJobId: ['parent_job_id', 'plain'],
};

export const JOB_COLUMNS: ColumnMap<keyof NewJob | keyof JobPatch> = {
  name: ['name', 'plain'],
  stage: ['stage', 'plain'],
  stageIdx: ['stage_idx', 'plain'],
  status: ['status', 'plain'],
  when: ['when', 'plain'],
  allowFailure: ['allow_failure', 'bool'],
  definition: ['definition', 'json'],
  tagList: ['tag_list', 'json'],
  protected: ['protected', 'bool'],
  retryOfId: ['retry_of_id', 'plain'],
  userId: ['user_id', 'plain'],
  runnerId: ['runner_id', 'plain'],
  runnerSystemId: ['runner_system_id', 'plain'],
  tokenHash: ['token_hash', 'plain'],
  retried: ['retried', 'bool'],
  queuedAt: ['queued_at', 'date'],
  startedAt: ['started_at', 'date'],
  finishedAt: ['finished_at', 'date'],
  lastSeenAt: ['last_seen_at', 'date'],
  timeoutSeconds: ['timeout_seconds', 'plain'],
  failureReason: ['failure_reason', 'plain'],
  exitCode: ['exit_code', 'plain'],
  traceChecksum: ['trace_checksum', 'plain'],
  coverage: ['coverage', 'plain'],
};

export const VARIABLE_COLUMNS: ColumnMap<keyof VariableRecord> = {
  projectId: ['project_id', 'plain'],
  key: ['key', 'plain'],
  value: ['value', 'plain'],
  variableType: ['variable_type', 'plain'],
  protected: ['protected', 'bool'],
  masked: ['masked', 'bool'],
  raw: ['raw', 'bool'],
  environmentScope: ['environment_scope', 'plain'],
  description: ['description', 'plain'],
};

function bind(flavor: SqlFlavor, kind: Kind, value: unknown): unknown {
  if (value === null) return null;
  switch (kind) {
    case 'bool':
      return flavor.toBool(value as boolean);
    case 'date':
      return flavor.toDate(value as Date);
    case 'json':
      return JSON.stringify(value);
    case 'plain':
      return value;
  }
}

/**
 * The row values for the fields of `input` that `columns` knows. The caller asserts the result's
 * row type (kysely's Insertable/Updateable of the table) since the map is checked by key only.
 */
export function toRow<K extends string>(
  flavor: SqlFlavor,
  columns: ColumnMap<K>,
  input: Partial<Record<K, unknown>>,
): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(input)) {
    const spec = (columns as Record<string, readonly [string, Kind] | undefined>)[field];
    if (spec === undefined || value === undefined) continue;
    row[spec[0]] = bind(flavor, spec[1], value);
  }
  return row;
}
