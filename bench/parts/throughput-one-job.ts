/**
 * Store calls for one one-job pipeline: its creation (`POST /pipeline`), then one synthetic runner
 * taking the job, sending two 1 KiB trace PATCHes and the success PUT. Counted from the
 * coordinator's own per-operation store-call metrics, scraped between the steps; the fewest of
 * three such pipelines (see oneJobStoreCalls).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { ClientStats } from '../clients/client-stats.js';

import { createRunners } from '../lib/clients.js';
import { perJob, scrapeDbStats, totalPerJob, type DbStats } from '../lib/db-stats.js';
import { createPipeline, createProjectWith, type BenchCoordinator } from '../lib/fleet.js';
import { OUT } from '../lib/paths.js';
import { nodeProcess } from '../lib/proc.js';

const ONE_JOB = ['noop:', '  tags: [one-job]', '  script:', '    - "true"', ''].join('\n');

export interface OneJobCalls {
  creation: number | null;
  requestToSuccess: number | null;
  /** Store calls of one /metrics scrape (subtracted from the figures above). */
  scrapeCalls: number;
  /** The calls from request to success, per operation ("op n calls/job …"), the scrape's included. */
  requestToSuccessByOperation: string[];
}

async function scrapesInARow(url: string, n: number): Promise<DbStats[]> {
  const scrapes: DbStats[] = [];
  for (let i = 0; i < n; i++) scrapes.push(await scrapeDbStats(url));
  return scrapes;
}

/**
 * A scrape's own store calls: the smallest difference between scrapes in a row. Work still running
 * from the project's creation (its push starts a pipeline that the push does not await) adds its
 * calls to a difference, and a scrape's calls depend on the state it reads (pending jobs, runners),
 * so the PostgreSQL figure moved by a few calls between runs when one difference was taken. The
 * smallest subtracts the least: the job's figure can only go up from it.
 */
function scrapeCost(scrapes: DbStats[]): number {
  const costs = scrapes.slice(1).map((s, i) => totalPerJob(scrapes[i] ?? s, s, 1) ?? 0);
  return Math.min(...costs);
}

/** Runs one one-job pipeline through a fresh synthetic runner; its own scrape cost is subtracted. */
async function onePipeline(
  coordinator: BenchCoordinator,
  projectId: number,
  attempt: number,
): Promise<OneJobCalls> {
  // A new runner each time, as in one pipeline alone: its first request writes its contact.
  const tokens = await createRunners(coordinator.api, 1, ['one-job']);
  // Scrapes in a row: what a scrape itself costs (the /metrics queue gauges read the store),
  // subtracted from the figures below (see scrapeCost).
  const scrapes = await scrapesInARow(coordinator.url, 4);
  const scrapeBefore = scrapeCost(scrapes);
  const a = scrapes[scrapes.length - 1] ?? new Map();
  await createPipeline(coordinator.api, projectId);
  const b = await scrapeDbStats(coordinator.url);
  // Not startClients: one client may finish its one job before the fleet says READY.
  const statsFile = path.join(coordinator.dir, `throughput-one-job-${attempt}.json`);
  const settings = {
    url: coordinator.url,
    tokens,
    clients: 1,
    tracePatches: 2,
    traceBytes: 1024,
    maxJobs: 1,
    statsFile,
  };
  const proc = nodeProcess(path.join(OUT, 'clients', 'runner-clients.js'), [], {
    BENCH_CLIENTS: JSON.stringify(settings),
  });
  try {
    await proc.waitFor(/STATS\n/, 60_000);
  } finally {
    await proc.stop('SIGTERM');
  }
  const stats = JSON.parse(await readFile(statsFile, 'utf8')) as ClientStats;
  const after = await scrapesInARow(coordinator.url, 3);
  const c = after[0] ?? new Map();
  // The job's window holds one scrape, in the state before or after the job: the smaller cost.
  const scrape = Math.min(scrapeBefore, scrapeCost(after));
  return {
    creation: (totalPerJob(a, b, 1) ?? 0) - scrapeBefore,
    requestToSuccess: stats.completed === 1 ? (totalPerJob(b, c, 1) ?? 0) - scrape : null,
    scrapeCalls: scrape,
    requestToSuccessByOperation: perJob(b, c, 1, 20).filter((x) => !x.startsWith('durable ')),
  };
}

/** The attempt with the fewest calls for `key` (null figures last). */
function fewest(attempts: OneJobCalls[], key: 'creation' | 'requestToSuccess'): OneJobCalls | undefined {
  const rank = (x: OneJobCalls): number => x[key] ?? Number.POSITIVE_INFINITY;
  return [...attempts].sort((x, y) => rank(x) - rank(y))[0];
}

/**
 * The store calls of a one-job pipeline, the fewest of three pipelines run one after the other.
 * The coordinator's background work (the watchdog's pass, the fleet sampler, a push's pipeline
 * still being processed) adds its calls to whichever window it falls in, and the window from job
 * request to success holds a client process's start; those calls only ever add, so the fewest of
 * three is the path's own count (one pipeline alone showed 15 calls instead of 8 once, with the
 * watchdog's and the sampler's calls in its window).
 */
export async function oneJobStoreCalls(coordinator: BenchCoordinator): Promise<OneJobCalls> {
  // Tagged, so that no pending job left by the throughput halves is taken instead.
  const project = await createProjectWith(coordinator, 'one-job', { '.gitlab-ci.yml': ONE_JOB });
  const attempts: OneJobCalls[] = [];
  for (let i = 0; i < 3; i++) attempts.push(await onePipeline(coordinator, project.id, i));
  const byCreation = fewest(attempts, 'creation');
  const byJob = fewest(attempts, 'requestToSuccess');
  if (!byCreation || !byJob) throw new Error('no one-job pipeline ran');
  return { ...byJob, creation: byCreation.creation };
}
