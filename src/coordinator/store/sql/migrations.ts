/**
 * Schema migrations, written in TypeScript with kysely's schema builder so they ship inside the
 * compiled output and serve both dialects. A migration is never edited once released: add a new
 * numbered one. The Migrator records applied names and serialises concurrent openers with a lock.
 */
import { Migrator } from 'kysely';
import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely, Migration } from 'kysely';
import type { Logger } from '../../../shared/logger.js';
import { fleetSamples, runnerFleets } from './fleet-migration.js';
import type { SqlFlavor } from './flavor.js';
import type { Database } from './schema.js';

type Table = CreateTableBuilder<string, string>;
type Col = (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;

const notNull: Col = (c) => c.notNull();

/** Column helpers for one dialect. */
function columns(flavor: SqlFlavor) {
  const t = flavor.columnTypes;
  return {
    id: (tb: Table): Table =>
      tb.addColumn('id', 'integer', (c) =>
        flavor.name === 'sqlite'
          ? c.primaryKey().autoIncrement()
          : c.primaryKey().generatedByDefaultAsIdentity(),
      ),
    date: (tb: Table, name: string, required: boolean): Table =>
      tb.addColumn(name, t.date, required ? notNull : (c) => c),
    bool: (tb: Table, name: string): Table => tb.addColumn(name, t.bool, notNull),
    binary: (tb: Table, name: string): Table => tb.addColumn(name, t.binary, notNull),
  };
}

function initial(flavor: SqlFlavor): Migration {
  const col = columns(flavor);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        usersTable,
        accessTokensTable,
        projectsTable,
        runnersTable,
        pipelinesTable,
        jobsTable,
      ]) {
        await table(db, col).execute();
      }
      await createJobIndexes(db);
      await traceChunksTable(db, col).execute();
      await artifactsTable(db, col).execute();
      await db.schema.createIndex('artifacts_job_id_idx').on('artifacts').column('job_id').execute();
      await variablesTable(db, col).execute();
    },
  };
}

type Columns = ReturnType<typeof columns>;

function usersTable(db: Kysely<unknown>, col: Columns): Table {
  const tb = col
    .id(db.schema.createTable('users'))
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', notNull);
  return col.date(col.bool(tb, 'admin'), 'created_at', true);
}

function accessTokensTable(db: Kysely<unknown>, col: Columns): Table {
  let tb = col
    .id(db.schema.createTable('access_tokens'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', notNull)
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'text', notNull);
  tb = col.date(col.date(tb, 'created_at', true), 'expires_at', false);
  return col.bool(tb, 'revoked');
}

function projectsTable(db: Kysely<unknown>, col: Columns): Table {
  const tb = col
    .id(db.schema.createTable('projects'))
    .addColumn('name', 'text', notNull)
    .addColumn('path', 'text', notNull)
    .addColumn('namespace_path', 'text', notNull)
    .addColumn('description', 'text')
    .addColumn('default_branch', 'text', notNull)
    .addColumn('visibility', 'text', notNull)
    .addColumn('ci_config_path', 'text')
    .addColumn('protected_branches', 'text', notNull)
    .addColumn('creator_id', 'integer', notNull)
    .addUniqueConstraint('projects_namespace_path_path_key', ['namespace_path', 'path']);
  return col.date(col.date(tb, 'created_at', true), 'last_activity_at', true);
}

function runnersTable(db: Kysely<unknown>, col: Columns): Table {
  let tb = col
    .id(db.schema.createTable('runners'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', notNull)
    .addColumn('tag_list', 'text', notNull);
  for (const name of ['run_untagged', 'paused', 'locked']) tb = col.bool(tb, name);
  tb = tb
    .addColumn('access_level', 'text', notNull)
    .addColumn('maximum_timeout', 'integer')
    .addColumn('runner_type', 'text', notNull)
    .addColumn('maintenance_note', 'text');
  tb = col.date(col.date(tb, 'created_at', true), 'contacted_at', false);
  for (const name of ['version', 'revision', 'platform', 'architecture', 'executor', 'ip_address']) {
    tb = tb.addColumn(name, 'text');
  }
  return tb;
}

function pipelinesTable(db: Kysely<unknown>, col: Columns): Table {
  let tb = col
    .id(db.schema.createTable('pipelines'))
    .addColumn('iid', 'integer', notNull)
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('ref', 'text', notNull)
    .addColumn('sha', 'text', notNull)
    .addColumn('before_sha', 'text', notNull);
  tb = col
    .bool(tb, 'tag')
    .addColumn('source', 'text', notNull)
    .addColumn('status', 'text', notNull)
    .addColumn('yaml_errors', 'text')
    .addColumn('name', 'text')
    .addColumn('stages', 'text', notNull)
    .addColumn('yaml_variables', 'text', notNull)
    .addColumn('variables', 'text', notNull)
    .addColumn('user_id', 'integer', notNull)
    .addUniqueConstraint('pipelines_project_id_iid_key', ['project_id', 'iid']);
  tb = col.date(col.date(tb, 'created_at', true), 'updated_at', true);
  for (const name of ['started_at', 'finished_at', 'committed_at']) tb = col.date(tb, name, false);
  return tb;
}

function jobsTable(db: Kysely<unknown>, col: Columns): Table {
  let tb = col
    .id(db.schema.createTable('jobs'))
    .addColumn('pipeline_id', 'integer', (c) => c.notNull().references('pipelines.id').onDelete('cascade'))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', notNull)
    .addColumn('stage', 'text', notNull)
    .addColumn('stage_idx', 'integer', notNull)
    .addColumn('status', 'text', notNull)
    .addColumn('when', 'text', notNull);
  tb = col
    .bool(tb, 'allow_failure')
    .addColumn('definition', 'text', notNull)
    .addColumn('tag_list', 'text', notNull);
  tb = col
    .bool(tb, 'protected')
    .addColumn('runner_id', 'integer', (c) => c.references('runners.id').onDelete('set null'))
    .addColumn('runner_system_id', 'text')
    .addColumn('token_hash', 'text', (c) => c.unique())
    .addColumn('retry_of_id', 'integer', (c) => c.references('jobs.id').onDelete('set null'));
  tb = col.bool(tb, 'retried').addColumn('user_id', 'integer', notNull);
  tb = col.date(col.date(tb, 'created_at', true), 'updated_at', true);
  for (const name of ['queued_at', 'started_at', 'finished_at', 'last_seen_at'])
    tb = col.date(tb, name, false);
  return tb
    .addColumn('timeout_seconds', 'integer')
    .addColumn('failure_reason', 'text')
    .addColumn('exit_code', 'integer')
    .addColumn('trace_size', 'bigint', notNull)
    .addColumn('trace_checksum', 'text')
    .addColumn('coverage', 'double precision');
}

async function createJobIndexes(db: Kysely<unknown>): Promise<void> {
  // The queue scans pending jobs oldest first; the others serve listJobs filters.
  await db.schema.createIndex('jobs_status_id_idx').on('jobs').columns(['status', 'id']).execute();
  await db.schema.createIndex('jobs_pipeline_id_idx').on('jobs').columns(['pipeline_id', 'id']).execute();
  await db.schema.createIndex('jobs_project_id_idx').on('jobs').columns(['project_id', 'id']).execute();
}

function traceChunksTable(db: Kysely<unknown>, col: Columns): Table {
  const tb = db.schema
    .createTable('trace_chunks')
    .addColumn('job_id', 'integer', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('offset', 'bigint', notNull)
    .addColumn('end_offset', 'bigint', notNull)
    .addPrimaryKeyConstraint('trace_chunks_pkey', ['job_id', 'offset']);
  return col.binary(tb, 'data');
}

function artifactsTable(db: Kysely<unknown>, col: Columns): Table {
  const tb = col
    .id(db.schema.createTable('artifacts'))
    .addColumn('job_id', 'integer', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('file_type', 'text', notNull)
    .addColumn('file_format', 'text', notNull)
    .addColumn('filename', 'text', notNull)
    .addColumn('size', 'bigint', notNull)
    .addColumn('storage_key', 'text', notNull);
  return col.date(col.date(tb, 'created_at', true), 'expire_at', false);
}

function variablesTable(db: Kysely<unknown>, col: Columns): Table {
  let tb = db.schema
    .createTable('variables')
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('key', 'text', notNull)
    .addColumn('value', 'text', notNull)
    .addColumn('variable_type', 'text', notNull);
  for (const name of ['protected', 'masked', 'raw']) tb = col.bool(tb, name);
  return tb
    .addColumn('environment_scope', 'text', notNull)
    .addColumn('description', 'text')
    .addPrimaryKeyConstraint('variables_pkey', ['project_id', 'key', 'environment_scope']);
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
  const col = columns(flavor);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await environmentsTable(db, col).execute();
      await deploymentsTable(db, col).execute();
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

function environmentsTable(db: Kysely<unknown>, col: Columns): Table {
  const tb = col
    .id(db.schema.createTable('environments'))
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', notNull)
    .addColumn('slug', 'text', notNull)
    .addColumn('external_url', 'text')
    .addColumn('state', 'text', notNull)
    .addColumn('tier', 'text', notNull)
    .addUniqueConstraint('environments_project_id_name_key', ['project_id', 'name']);
  return col.date(col.date(tb, 'created_at', true), 'updated_at', true);
}

function deploymentsTable(db: Kysely<unknown>, col: Columns): Table {
  let tb = col
    .id(db.schema.createTable('deployments'))
    .addColumn('iid', 'integer')
    .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('environment_id', 'integer', (c) =>
      c.notNull().references('environments.id').onDelete('cascade'),
    )
    .addColumn('job_id', 'integer', (c) => c.notNull().unique().references('jobs.id').onDelete('cascade'))
    .addColumn('pipeline_id', 'integer', notNull)
    .addColumn('action', 'text', notNull)
    .addColumn('ref', 'text', notNull)
    .addColumn('sha', 'text', notNull);
  tb = col
    .bool(tb, 'tag')
    .addColumn('status', 'text', notNull)
    .addColumn('user_id', 'integer', notNull)
    .addUniqueConstraint('deployments_project_id_iid_key', ['project_id', 'iid']);
  return col.date(col.date(col.date(tb, 'created_at', true), 'updated_at', true), 'finished_at', false);
}

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
