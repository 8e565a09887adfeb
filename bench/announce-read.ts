/**
 * The announcer's store read (`X-Flotilla-Announced-Jobs`, src/coordinator/scheduler/queue/
 * announced-jobs.ts) at a large backlog: PIPELINES pipelines of 20 builds (4 stages of 5; the
 * first stage pending, the rest created) in a fresh store, then 5 reads each of what the announcer
 * read before 2026-12-07 evening (`listJobs` of the 5,000 oldest open builds, whole rows) and of
 * `listAnnounceableJobs(5000)`, with the rows read, the created builds they show, and the time.
 * A read on SQLite holds the event loop for its whole time (better-sqlite3 is synchronous).
 * `node bench/node_modules/.out/bench/announce-read.js sqlite|postgres [pipelines]`
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { announcedFor, ANNOUNCE_READ_LIMIT } from '../src/coordinator/scheduler/queue/announced-jobs.js';
import { createStore } from '../src/coordinator/store/create-store.js';
import type { NewJob, NewPipeline, Store } from '../src/coordinator/store/store.js';
import type { JobDefinition } from '../src/pipeline/types.js';
import { admin, benchDatabase, type StoreKind } from './lib/database.js';
import { percentile, round } from './lib/stats.js';

const STAGES = 4;
const PER_STAGE = 5;
const READS = 5;
const UNTAGGED = { tagList: [], runUntagged: true, accessLevel: 'not_protected' as const };

function definition(name: string, stageIndex: number): JobDefinition {
  return {
    name,
    stage: `s${stageIndex}`,
    stageIndex,
    beforeScript: [],
    script: [`echo ${name}`, 'make test'],
    afterScript: [],
    variables: [],
    when: 'on_success',
    startInSeconds: null,
    allowFailure: false,
    allowFailureExitCodes: [],
    timeoutSeconds: 3600,
    needs: null,
    dependencies: null,
    artifacts: null,
    tags: [],
    image: null,
    services: [],
    cache: [],
    retry: { max: 0, when: [], exitCodes: [] },
    interruptible: false,
    resourceGroup: null,
    coverageRegex: null,
    environment: null,
    preGetSourcesScript: [],
    nodeIndex: null,
    nodeTotal: null,
    baseName: name,
  } as unknown as JobDefinition;
}

function jobs(): NewJob[] {
  const out: NewJob[] = [];
  for (let s = 0; s < STAGES; s++)
    for (let j = 0; j < PER_STAGE; j++) {
      const name = `job-${s}-${j}`;
      out.push({
        name,
        stage: `s${s}`,
        stageIdx: s,
        status: s === 0 ? 'pending' : 'created',
        when: 'on_success',
        allowFailure: false,
        definition: definition(name, s),
        tagList: [],
        protected: false,
        retryOfId: null,
        userId: 1,
      });
    }
  return out;
}

async function fill(store: Store, pipelines: number): Promise<void> {
  const project = await store.createProject({
    name: 'backlog',
    path: 'backlog',
    namespacePath: 'bench',
    description: null,
    defaultBranch: 'main',
    visibility: 'public',
    ciConfigPath: null,
    protectedBranches: [],
    creatorId: 1,
  });
  const pipeline = {
    projectId: project.id,
    ref: 'main',
    sha: 'a'.repeat(40),
    beforeSha: '0'.repeat(40),
    tag: false,
    source: 'push',
    status: 'running',
    yamlErrors: null,
    name: null,
    stages: ['s0', 's1', 's2', 's3'],
    yamlVariables: [],
    variables: [],
    userId: 1,
    createdAt: new Date(),
    startedAt: new Date(),
    finishedAt: null,
  } as unknown as NewPipeline;
  for (let p = 0; p < pipelines; p++) await store.createPipeline(pipeline, jobs());
}

async function timeReads(
  label: string,
  read: () => Promise<readonly Parameters<typeof announcedFor>[0][number][]>,
) {
  const ms: number[] = [];
  let rows = 0;
  let created = 0;
  for (let i = 0; i < READS; i++) {
    const start = performance.now();
    const got = await read();
    ms.push(performance.now() - start);
    rows = got.length;
    created = announcedFor(got, UNTAGGED).created;
  }
  const sorted = [...ms].sort((a, b) => a - b);
  console.log(
    `  ${label}: ${rows} rows, ${created} created builds seen; read ms min ${round(sorted[0] ?? 0, 1)}, ` +
      `median ${round(percentile(sorted, 50), 1)}, max ${round(sorted.at(-1) ?? 0, 1)}`,
  );
}

async function main(): Promise<void> {
  const kind: StoreKind = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';
  const pipelines = Number(process.argv[3] ?? '500') || 500;
  const db = benchDatabase(kind);
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-announce-'));
  const store = await createStore(db.url ?? path.join(dir, 'flotilla.db'));
  try {
    const started = performance.now();
    await fill(store, pipelines);
    // PostgreSQL plans from statistics, which autovacuum keeps; a table filled a moment ago has none yet.
    if (kind === 'postgres')
      await admin((c) => c.query(`analyze ${new URL(db.url ?? '').searchParams.get('schema')}.jobs`));
    console.log(
      `announcer read, ${kind}: ${pipelines} pipelines, ${pipelines * STAGES * PER_STAGE} builds ` +
        `(${pipelines * PER_STAGE} pending, ${pipelines * (STAGES - 1) * PER_STAGE} created), filled in ${round((performance.now() - started) / 1000, 1)} s`,
    );
    await timeReads('before: listJobs, whole rows', async () => {
      const page = await store.listJobs(
        { statuses: ['created', 'pending', 'running'], kind: 'build' },
        { page: 1, perPage: ANNOUNCE_READ_LIMIT },
      );
      return page.items;
    });
    await timeReads('now: listAnnounceableJobs', () => store.listAnnounceableJobs(ANNOUNCE_READ_LIMIT));
  } finally {
    await store.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
