/**
 * Announced jobs, a Flotilla extension of POST /jobs/request (GitLab has no such signal): a runner
 * that sends `X-Flotilla-Announce: 1` gets, on every answer, `X-Flotilla-Announced-Jobs:
 * created=N, next=N, uncovered=N`: the jobs in state `created` of running pipelines that it could
 * take (tags and protection as a claim matches them), those of each pipeline's next stage, and per
 * pipeline the next stage's jobs beyond its current stage's unfinished ones, summed. A 201 also
 * says whether the job it hands out was announced (`X-Flotilla-Job-Announced: 1`: it was `created`
 * before it became pending). A GitLab coordinator sends neither: the runner sees no announcement.
 * Imports nothing internal.
 */

export const HEADER_ANNOUNCE = 'x-flotilla-announce';
export const HEADER_ANNOUNCED_JOBS = 'x-flotilla-announced-jobs';
export const HEADER_JOB_ANNOUNCED = 'x-flotilla-job-announced';
/**
 * With the announced jobs, per pipeline whose next stage has uncovered jobs: `next/unfinished/age`
 * (its next stage's jobs, its current stage's unfinished jobs, seconds the youngest of those has
 * been running, 0 while one is pending), comma-separated, at most MAX_ANNOUNCED_STAGES of them.
 */
export const HEADER_ANNOUNCED_STAGES = 'x-flotilla-announced-stages';
/** The most pipelines `X-Flotilla-Announced-Stages` lists (the oldest stages first: due soonest). */
export const MAX_ANNOUNCED_STAGES = 200;

export interface AnnouncedJobs {
  /** Every created job of the running pipelines. */
  created: number;
  /** Those of each pipeline's next stage (pending once its current stage has finished). */
  next: number;
  /**
   * Per pipeline, its next stage's jobs beyond its current stage's unfinished jobs (the machines
   * those free can take the rest), summed over the pipelines.
   */
  uncovered: number;
  /**
   * Per pipeline with a next stage, what says when that stage is due (`announced_jobs = "due"`);
   * absent when the coordinator does not send it.
   */
  stages?: AnnouncedStage[];
  /** When the stages' ages were taken, on the reader's clock (ms; absent = now). */
  atMs?: number;
}

/** A pipeline's next stage and the current stage it waits for. */
export interface AnnouncedStage {
  /** Jobs of the next stage. */
  next: number;
  /** Jobs of the current stage not finished yet (pending or running). */
  unfinished: number;
  /** How long the youngest of those has been running, in ms (one still pending: 0). */
  elapsedMs: number;
}

export function formatAnnouncedJobs(a: AnnouncedJobs): string {
  return `created=${a.created}, next=${a.next}, uncovered=${a.uncovered}`;
}

/** The header's value, or undefined when absent or not three counts ≥ 0 (then ignored). PURE. */
export function parseAnnouncedJobs(header: string | null | undefined): AnnouncedJobs | undefined {
  if (!header) return undefined;
  const counts = new Map<string, number>();
  for (const part of header.split(',')) {
    const [key, value, ...rest] = part.split('=').map((x) => x.trim());
    if (!key || value === undefined || rest.length > 0 || !/^\d+$/.test(value)) return undefined;
    counts.set(key, Number(value));
  }
  const created = counts.get('created');
  const next = counts.get('next');
  const uncovered = counts.get('uncovered');
  if (created === undefined || next === undefined || uncovered === undefined) return undefined;
  return { created, next, uncovered };
}

/** The stages header's value: those with uncovered jobs, the oldest first, at most the maximum. PURE. */
export function formatAnnouncedStages(stages: readonly AnnouncedStage[]): string {
  return stages
    .filter((s) => s.next > s.unfinished)
    .sort((a, b) => b.elapsedMs - a.elapsedMs)
    .slice(0, MAX_ANNOUNCED_STAGES)
    .map((s) => `${s.next}/${s.unfinished}/${Math.max(0, Math.floor(s.elapsedMs / 1000))}`)
    .join(', ');
}

/** The stages header's value (an empty value: none), or undefined when absent or malformed. PURE. */
export function parseAnnouncedStages(header: string | null | undefined): AnnouncedStage[] | undefined {
  if (header === null || header === undefined) return undefined;
  const out: AnnouncedStage[] = [];
  for (const part of header.split(',')) {
    if (part.trim() === '' && header.trim() === '') break;
    const m = /^\s*(\d+)\/(\d+)\/(\d+)\s*$/.exec(part);
    if (!m) return undefined;
    out.push({ next: Number(m[1]), unfinished: Number(m[2]), elapsedMs: Number(m[3]) * 1000 });
  }
  return out;
}

/**
 * The announcement as of `nowMs`: its stages' ages grown by the time since they were taken (`atMs`;
 * a manager learns an announcement only when a job request is answered). PURE.
 */
export function aged(a: AnnouncedJobs | undefined, nowMs: number): AnnouncedJobs | undefined {
  if (!a?.stages || a.atMs === undefined || nowMs <= a.atMs) return a;
  const since = nowMs - a.atMs;
  return { ...a, stages: a.stages.map((s) => ({ ...s, elapsedMs: s.elapsedMs + since })), atMs: nowMs };
}
