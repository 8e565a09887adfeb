/**
 * What the coordinator announces to a runner that asks (`X-Flotilla-Announce`, see
 * src/api/announced-jobs.ts): the `created` builds of running pipelines that the runner could
 * take, by stage. Read from the store at most once per `refreshMs` (all runners share the read),
 * so a job request costs no query of its own.
 */
import { aged, type AnnouncedJobs, type AnnouncedStage } from '../../../api/announced-jobs.js';
import type { Clock } from '../../../shared/clock.js';
import type { Logger } from '../../../shared/logger.js';
import type { AnnounceableJob, JobRecord, Store } from '../../store/store.js';
import { jobMatchesRunner, type QueueMatch } from './runner-queue.js';

export type AnnounceJob = Pick<
  AnnounceableJob,
  'pipelineId' | 'stageIdx' | 'status' | 'tagList' | 'protected' | 'startedAt'
>;

/**
 * A pipeline's next stage as `stages` lists it: the pending and running jobs ahead of it, and how
 * long the youngest of them has been running at `nowMs` (a pending one: 0). PURE.
 */
function stageOf(next: number, ahead: readonly AnnounceJob[], nowMs: number): AnnouncedStage {
  const ages = ahead.map((j) => (j.status === 'running' && j.startedAt ? nowMs - j.startedAt.getTime() : 0));
  const youngest = ages.length > 0 ? Math.min(...ages) : 0;
  return { next, unfinished: ahead.length, elapsedMs: Math.max(0, youngest) };
}

/**
 * Per pipeline, over the jobs `match` may take: `created` = its created jobs; its next stage = the
 * lowest stage with created jobs; `uncovered` = that stage's jobs beyond the pending and running
 * jobs of earlier stages (their machines take the rest). Summed over the pipelines. With `nowMs`,
 * also `stages`: per pipeline, its next stage and the jobs ahead of it (`stageOf`). PURE.
 */
export function announcedFor(jobs: readonly AnnounceJob[], match: QueueMatch, nowMs?: number): AnnouncedJobs {
  const pipelines = new Map<number, AnnounceJob[]>();
  for (const j of jobs) {
    if (!jobMatchesRunner({ tagList: j.tagList, protected: j.protected }, match)) continue;
    const list = pipelines.get(j.pipelineId);
    if (list) list.push(j);
    else pipelines.set(j.pipelineId, [j]);
  }
  const out: AnnouncedJobs = { created: 0, next: 0, uncovered: 0 };
  const stages: AnnouncedStage[] = [];
  for (const list of pipelines.values()) {
    const created = list.filter((j) => j.status === 'created');
    if (created.length === 0) continue;
    const nextStage = Math.min(...created.map((j) => j.stageIdx));
    const next = created.filter((j) => j.stageIdx === nextStage).length;
    const ahead = list.filter(
      (j) => (j.status === 'pending' || j.status === 'running') && j.stageIdx < nextStage,
    );
    out.created += created.length;
    out.next += next;
    out.uncovered += Math.max(0, next - ahead.length);
    if (nowMs !== undefined) stages.push(stageOf(next, ahead, nowMs));
  }
  return nowMs === undefined ? out : { ...out, stages, atMs: nowMs };
}

/**
 * A job handed out was announced: it waited in `created` for other jobs (its `needs`, or without
 * `needs` every earlier stage), so a runner asking for announcements saw it coming. A retry was
 * not: it is created when the job before it ends, after its prerequisites, and is pending at once.
 * PURE.
 */
export function wasAnnounced(job: Pick<JobRecord, 'stageIdx' | 'definition' | 'retryOfId'>): boolean {
  if (job.retryOfId !== null) return false;
  const needs = job.definition.needs;
  return needs === null ? job.stageIdx > 0 : needs.length > 0;
}

export interface Announcer {
  /**
   * The announcement for a runner matching `match`. The first call waits for the first read; later
   * ones answer from the last read at once and start a new one when it is `refreshMs` old, so a
   * job request never waits for the store on its account (with `refreshMs` 0, every call waits for
   * a read of its own, or the one under way).
   */
  forRunner(match: QueueMatch): Promise<AnnouncedJobs>;
}

/** The most created builds one read starts from (the oldest first), with their pipelines' other builds. */
export const ANNOUNCE_READ_LIMIT = 5000;

export function createAnnouncer(o: {
  store: Store;
  clock: Clock;
  logger: Logger;
  refreshMs: number;
}): Announcer {
  let jobs: readonly AnnounceJob[] = [];
  /** Per match (runners alike share it), the announcement of the last read. */
  let byMatch = new Map<string, AnnouncedJobs>();
  let readAt = -Infinity;
  let first: Promise<void> | null = null;
  let reading: Promise<void> | null = null;
  async function read(): Promise<void> {
    jobs = await o.store.listAnnounceableJobs(ANNOUNCE_READ_LIMIT);
    byMatch = new Map();
    readAt = o.clock.monotonic();
  }
  /**
   * One read at a time. A failed read is logged and leaves the last announcement (the job request
   * does not fail for it); it is tried again after a span, not on every request.
   */
  function refresh(): Promise<void> {
    reading ??= read()
      .catch((err: unknown) => {
        readAt = o.clock.monotonic();
        o.logger.warn({ err }, 'reading the announced jobs failed; runners get the last announcement');
      })
      .finally(() => (reading = null));
    return reading;
  }
  return {
    async forRunner(match) {
      if (first === null) await (first = refresh());
      else if (o.refreshMs <= 0) await refresh();
      else {
        await first;
        if (o.clock.monotonic() - readAt >= o.refreshMs) void refresh();
      }
      const key = JSON.stringify([match.accessLevel, match.runUntagged, [...new Set(match.tagList)].sort()]);
      const nowMs = o.clock.now().getTime();
      const known = byMatch.get(key);
      // The stages' ages as of now, not of the read (it may be refreshMs old).
      if (known) return aged(known, nowMs) ?? known;
      const a = announcedFor(jobs, match, nowMs);
      byMatch.set(key, a);
      return a;
    },
  };
}
