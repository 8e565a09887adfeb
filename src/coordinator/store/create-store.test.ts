import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobDefinition } from '../../pipeline/types.js';
import { isFlotillaError } from '../../shared/errors.js';
import { sql } from 'kysely';
import { createStore, createMemoryStore, parseStoreUrl, redactUrl } from './create-store.js';
import { newProject } from '../../../test/kits/coordinator/store/conformance.js';
import { openSqlite } from './sql/sqlite/dialect.js';
import type { NewJob } from './store.js';

describe('parseStoreUrl', () => {
  it.each([
    ['sqlite:///var/lib/flotilla/db.sqlite', '/var/lib/flotilla/db.sqlite'],
    ['sqlite:data/flotilla.db', 'data/flotilla.db'],
    ['sqlite:/abs.db', '/abs.db'],
    ['data/flotilla.db', 'data/flotilla.db'],
    ['/abs/flotilla.db', '/abs/flotilla.db'],
    [':memory:', ':memory:'],
    ['sqlite::memory:', ':memory:'],
  ])('%s → SQLite %s', (url, filename) => {
    expect(parseStoreUrl(url)).toEqual({ dialect: 'sqlite', filename });
  });

  it('takes the schema out of a PostgreSQL URL and keeps the rest', () => {
    expect(parseStoreUrl('postgres://u:p@db:5432/ci?schema=flo_1&sslmode=disable')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgres://u:p@db:5432/ci?sslmode=disable',
      schema: 'flo_1',
      poolSize: 20,
      preparedStatements: true,
    });
    expect(parseStoreUrl('postgres://db/ci?pool_size=50')).toMatchObject({
      connectionString: 'postgres://db/ci',
      poolSize: 50,
    });
    expect(parseStoreUrl('postgres://db/ci?prepared_statements=false&sslmode=disable')).toMatchObject({
      connectionString: 'postgres://db/ci?sslmode=disable',
      preparedStatements: false,
    });
    expect(parseStoreUrl('postgres://db/ci?prepared_statements=true')).toMatchObject({
      connectionString: 'postgres://db/ci',
      preparedStatements: true,
    });
    expect(parseStoreUrl('postgresql://db/ci')).toMatchObject({ dialect: 'postgres', schema: undefined });
  });

  it.each([
    '',
    '  ',
    'mysql://db/ci',
    'sqlite:',
    'sqlite://relative.db',
    'postgres://db/ci?schema=a;drop',
    'postgres://db/ci?pool_size=0',
    'postgres://db/ci?pool_size=ten',
    'postgres://db/ci?prepared_statements=no',
    'http://x',
  ])('rejects %j with FLO_ERR_CONFIG_INVALID naming the accepted forms', (url) => {
    let thrown: unknown;
    try {
      parseStoreUrl(url);
    } catch (err) {
      thrown = err;
    }
    expect(isFlotillaError(thrown, 'FLO_ERR_CONFIG_INVALID')).toBe(true);
    expect(String((thrown as Error).message)).toMatch(/sqlite:\/\/\/.*postgres:\/\//);
  });

  it('masks passwords in messages', () => {
    expect(redactUrl('postgres://user:hunter2@db/ci')).toBe('postgres://user:[MASKED]@db/ci');
    expect(() => parseStoreUrl('mysql://user:hunter2@db/ci')).toThrow(/\[MASKED\]/);
  });
});

describe('createStore (SQLite file)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates parent directories, migrates once and keeps acknowledged data across reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-store-'));
    dirs.push(dir);
    const url = `sqlite://${join(dir, 'nested', 'flotilla.db')}`;
    const first = await createStore(url);
    const project = await first.createProject(newProject());
    const job: NewJob = {
      name: 'j',
      stage: 'test',
      stageIdx: 0,
      status: 'pending',
      when: 'on_success',
      allowFailure: false,
      // Stored as JSON and returned as is; the store never looks inside.
      definition: { name: 'j', script: ['true'] } as unknown as JobDefinition,
      tagList: [],
      protected: false,
      retryOfId: null,
      userId: 1,
    };
    const { jobs } = await first.createPipeline(
      {
        projectId: project.id,
        ref: 'main',
        sha: 'a',
        beforeSha: 'b',
        tag: false,
        source: 'push',
        status: 'created',
        yamlErrors: null,
        name: null,
        stages: [],
        yamlVariables: [],
        variables: [],
        userId: 1,
        createdAt: new Date(),
        startedAt: null,
        finishedAt: null,
        committedAt: null,
      },
      [job],
    );
    const jobId = jobs[0]?.id ?? 0;
    expect(await first.appendTrace(jobId, 0, Buffer.from('acknowledged'))).toEqual({ ok: true, size: 12 });
    await first.close();
    const file = join(dir, 'nested', 'flotilla.db');
    const raw = new BetterSqlite3(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    const second = await createStore(url);
    expect(await second.findProjectByPath('g', 'p')).toEqual(project);
    expect((await second.readTrace(jobId)).toString()).toBe('acknowledged');
    expect((await second.getJob(jobId))?.definition).toEqual(job.definition);
    await second.close();
  });

  it('opens a throwaway database without fsyncs or WAL, and a real one with both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-throwaway-'));
    dirs.push(dir);
    const pragmas = async (throwaway: boolean) => {
      const { db } = openSqlite(join(dir, `${throwaway}.db`), { throwaway });
      const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
      const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
      await db.destroy();
      return [sync.rows[0]?.synchronous, journal.rows[0]?.journal_mode];
    };
    expect(await pragmas(true)).toEqual([0, 'memory']);
    // A real store: WAL, synchronous = NORMAL with group commit (one sync per answer).
    expect(await pragmas(false)).toEqual([1, 'wal']);
    const store = await createStore(join(dir, 'run.db'), { throwaway: true });
    await store.ensureRootUser();
    const project = await store.createProject(newProject());
    await store.close();
    const reopened = await createStore(join(dir, 'run.db'));
    expect(await reopened.findProjectByPath('g', 'p')).toEqual(project);
    await reopened.close();
  });

  it('uses the injected clock for the timestamps it sets', async () => {
    const at = new Date('2020-02-02T02:02:02.002Z');
    const store = await createMemoryStore({ clock: { now: () => at } });
    expect((await store.ensureRootUser()).createdAt).toEqual(at);
    await store.close();
  });

  it('wraps open failures with the URL, password masked', async () => {
    const err = await createStore('postgres://u:secret@127.0.0.1:1/none').catch((e: unknown) => e);
    expect(isFlotillaError(err)).toBe(true);
    expect(String((err as Error).message)).toContain('u:[MASKED]@127.0.0.1:1');
    expect(String((err as Error).message)).not.toContain('secret');
  });

  it('says a database server that does not answer is unavailable, not an internal error', async () => {
    const err = await createStore('postgres://u@127.0.0.1:1/none').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FLO_ERR_STORE_UNAVAILABLE' });
    expect(String((err as Error).message)).toContain('is the database server running');
  });

  it('keeps an error of the store itself internal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-store-dir-'));
    try {
      // A directory where the database file should be: SQLite cannot open it.
      const err = await createStore(dir).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FLO_ERR_INTERNAL' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
