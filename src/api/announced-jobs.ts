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
}

/** A pipeline's next stage and the current stage it waits for. */
export interface AnnouncedStage {
  /** Jobs of the next stage. */
  next: number;
  /** Jobs of the current stage not finished yet (pending or running). */
  unfinished: number;
  /** How long the youngest of those has been pending or running, in ms. */
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
