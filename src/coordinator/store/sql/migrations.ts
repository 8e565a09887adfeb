/**
 * Schema migrations, written in TypeScript with kysely's schema builder so they ship inside the
 * compiled output and serve both dialects. A migration is never edited once released: add a new
 * numbered one. The Migrator records applied names and serialises concurrent openers with a lock.
 */
import { Migrator } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Logger } from '../../../shared/logger.js';
import { fleetSamples, runnerFleets } from './fleet-migration.js';
import type { SqlFlavor } from './flavor.js';
import type { Database } from './schema.js';
import { createTableFromSpec, type TableSpec } from './table-spec.js';

/** Migration 0001's tables, in creation order (column specs: see table-spec.ts). */
const INITIAL_TABLES: readonly TableSpec[] = [
  {
    name: 'users',
    columns: ['id', 'username text! unique', 'name text!', 'admin bool!', 'created_at date!'],
  },
  {
    name: 'access_tokens',
    columns: [
      'id',
      'user_id integer! -> users.id cascade',
      'name text!',
      'token_hash text! unique',
      'scopes text!',
      'created_at date!',
      'expires_at date',
      'revoked bool!',
    ],
  },
  {
    name: 'projects',
    columns: [
      'id',
      'name text!',
      'path text!',
      'namespace_path text!',
      'description text',
      'default_branch text!',
      'visibility text!',
      'ci_config_path text',
      'protected_branches text!',
      'creator_id integer!',
      'created_at date!',
      'last_activity_at date!',
    ],
    unique: { projects_namespace_path_path_key: ['namespace_path', 'path'] },
  },
  {
    name: 'runners',
    columns: [
      'id',
      'token_hash text! unique',
      'description text!',
      'tag_list text!',
      'run_untagged bool!',
      'paused bool!',
      'locked bool!',
      'access_level text!',
      'maximum_timeout integer',
      'runner_type text!',
      'maintenance_note text',
      'created_at date!',
      'contacted_at date',
      'version text',
      'revision text',
      'platform text',
      'architecture text',
      'executor text',
      'ip_address text',
    ],
  },
  {
    name: 'pipelines',
    columns: [
      'id',
      'iid integer!',
      'project_id integer! -> projects.id cascade',
      'ref text!',
      'sha text!',
      'before_sha text!',
      'tag bool!',
      'source text!',
      'status text!',
      'yaml_errors text',
      'name text',
      'stages text!',
      'yaml_variables text!',
      'variables text!',
      'user_id integer!',
      'created_at date!',
      'updated_at date!',
      'started_at date',
      'finished_at date',
      'committed_at date',
    ],
    unique: { pipelines_project_id_iid_key: ['project_id', 'iid'] },
  },
  {
    name: 'jobs',
    columns: [
      'id',
      'pipeline_id integer! -> pipelines.id cascade',
      'project_id integer! -> projects.id cascade',
      'name text!',
      'stage text!',
      'stage_idx integer!',
      'status text!',
      'when text!',
      'allow_failure bool!',
      'definition text!',
      'tag_list text!',
      'protected bool!',
      'runner_id integer -> runners.id set-null',
      'runner_system_id text',
      'token_hash text unique',
      'retry_of_id integer -> jobs.id set-null',
      'retried bool!',
      'user_id integer!',
      'created_at date!',
      'updated_at date!',
      'queued_at date',
      'started_at date',
      'finished_at date',
      'last_seen_at date',
      'timeout_seconds integer',
      'failure_reason text',
      'exit_code integer',
      'trace_size bigint!',
      'trace_checksum text',
      'coverage double',
    ],
  },
];

/** Migration 0001's tables after the jobs' indexes, in creation order. */
const INITIAL_LOG_TABLES: readonly TableSpec[] = [
  {
    name: 'trace_chunks',
    columns: ['job_id integer! -> jobs.id cascade', 'offset bigint!', 'end_offset bigint!', 'data binary!'],
    primaryKey: { trace_chunks_pkey: ['job_id', 'offset'] },
  },
  {
    name: 'artifacts',
    columns: [
      'id',
      'job_id integer! -> jobs.id cascade',
      'file_type text!',
      'file_format text!',
      'filename text!',
      'size bigint!',
      'storage_key text!',
      'created_at date!',
      'expire_at date',
    ],
  },
];

const VARIABLES_TABLE: TableSpec = {
  name: 'variables',
  columns: [
    'project_id integer! -> projects.id cascade',
    'key text!',
    'value text!',
    'variable_type text!',
    'protected bool!',
    'masked bool!',
    'raw bool!',
    'environment_scope text!',
    'description text',
  ],
  primaryKey: { variables_pkey: ['project_id', 'key', 'environment_scope'] },
};

function initial(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const spec of INITIAL_TABLES) await createTableFromSpec(db, flavor, spec).execute();
      await createJobIndexes(db);
      for (const spec of INITIAL_LOG_TABLES) await createTableFromSpec(db, flavor, spec).execute();
      await db.schema.createIndex('artifacts_job_id_idx').on('artifacts').column('job_id').execute();
      await createTableFromSpec(db, flavor, VARIABLES_TABLE).execute();
    },
  };
}

async function createJobIndexes(db: Kysely<unknown>): Promise<void> {
  // The queue scans pending jobs oldest first; the others serve listJobs filters.
  await db.schema.createIndex('jobs_status_id_idx').on('jobs').columns(['status', 'id']).execute();
  await db.schema.createIndex('jobs_pipeline_id_idx').on('jobs').columns(['pipeline_id', 'id']).execute();
  await db.schema.createIndex('jobs_project_id_idx').on('jobs').columns(['project_id', 'id']).execute();
}

/**
 * Parent-child pipelines: a child pipeline records the pipeline and bridge job that created it;
 * jobs record whether they are builds or bridges (trigger jobs), so claims never see a bridge.
 */
function childPipelines(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('pipelines').addColumn('parent_pipeline_id', 'integer').execute();
      await db.schema.alterTable('pipelines').addColumn('parent_job_id', 'integer').execute();
      await db.schema
        .createIndex('pipelines_parent_pipeline_id_idx')
        .on('pipelines')
        .column('parent_pipeline_id')
        .execute();
      await db.schema
        .alterTable('jobs')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('build'))
        .execute();
    },
  };
}

/**
 * Environments and deployments (`environment:`). Test reports need no table: JUnit artifacts are
 * parsed when a report is requested.
 */
function testReportsEnvironments(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createTableFromSpec(db, flavor, ENVIRONMENTS_TABLE).execute();
      await createTableFromSpec(db, flavor, DEPLOYMENTS_TABLE).execute();
      await db.schema
        .createIndex('deployments_environment_id_idx')
        .on('deployments')
        .columns(['environment_id', 'id'])
        .execute();
      await db.schema
        .createIndex('deployments_pipeline_id_idx')
        .on('deployments')
        .column('pipeline_id')
        .execute();
    },
  };
}

const ENVIRONMENTS_TABLE: TableSpec = {
  name: 'environments',
  columns: [
    'id',
    'project_id integer! -> projects.id cascade',
    'name text!',
    'slug text!',
    'external_url text',
    'state text!',
    'tier text!',
    'created_at date!',
    'updated_at date!',
  ],
  unique: { environments_project_id_name_key: ['project_id', 'name'] },
};

const DEPLOYMENTS_TABLE: TableSpec = {
  name: 'deployments',
  columns: [
    'id',
    'iid integer',
    'project_id integer! -> projects.id cascade',
    'environment_id integer! -> environments.id cascade',
    'job_id integer! unique -> jobs.id cascade',
    'pipeline_id integer!',
    'action text!',
    'ref text!',
    'sha text!',
    'tag bool!',
    'status text!',
    'user_id integer!',
    'created_at date!',
    'updated_at date!',
    'finished_at date',
  ],
  unique: { deployments_project_id_iid_key: ['project_id', 'iid'] },
};

/** `POST /projects/:id/jobs/:job_id/erase`: when a job's log and artifacts were erased. */
function jobErasure(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('jobs').addColumn('erased_at', flavor.columnTypes.date).execute();
      await db.schema.createIndex('jobs_runner_id_idx').on('jobs').columns(['runner_id', 'id']).execute();
    },
  };
}

export function buildMigrations(flavor: SqlFlavor): Record<string, Migration> {
  return {
    '0001_initial': initial(flavor),
    '0002_test_reports_environments': testReportsEnvironments(flavor),
    '0003_child_pipelines': childPipelines(),
    '0004_job_erasure': jobErasure(flavor),
    '0005_runner_fleets': runnerFleets(flavor),
    '0006_fleet_samples': fleetSamples(flavor),
  };
}

export interface MigrateOptions {
  /**
   * The PostgreSQL schema the tables live in. The Migrator's bookkeeping tables must be told
   * explicitly: its existence check otherwise accepts a same-named table in any schema.
   */
  schema?: string | undefined;
  logger?: Logger | undefined;
}

/** Applies every pending migration; throws with the failing migration's error. */
export async function migrateToLatest(
  db: Kysely<Database>,
  flavor: SqlFlavor,
  options: MigrateOptions = {},
): Promise<void> {
  const { schema, logger } = options;
  const migrations = buildMigrations(flavor);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (applied.length > 0) logger?.info({ migrations: applied, dialect: flavor.name }, 'store migrated');
    if (error === undefined) return;
    if (attempt >= MIGRATE_ATTEMPTS || !isConcurrentSchemaDrop(error, schema)) throw error;
    logger?.warn(
      { err: error, attempt },
      'another schema vanished while the store was being opened; retrying',
    );
  }
}

const MIGRATE_ATTEMPTS = 3;

/**
 * The Migrator's table check reads the catalog of every schema of the database; a schema that
 * another session drops meanwhile makes PostgreSQL answer `3F000 schema "…" does not exist` for a
 * schema that is not ours. Nothing was applied then, so trying again is safe.
 */
function isConcurrentSchemaDrop(error: unknown, ours: string | undefined): boolean {
  const e = error as { code?: unknown; message?: unknown };
  if (e.code !== '3F000' || typeof e.message !== 'string') return false;
  return ours === undefined || !e.message.includes(`"${ours}"`);
}
