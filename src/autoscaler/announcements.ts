/**
 * A docker-autoscaler entry's announced jobs (`announced_jobs`): what its job requests' answers
 * last said (src/api/announced-jobs.ts), for the taskscaler's `announced` input, and which jobs
 * handed out were announced, for their `acquire`. Only a Flotilla coordinator announces; against
 * GitLab `latest()` stays undefined and no job is announced.
 */
import type { AnnouncedJobs } from '../api/announced-jobs.js';
import type { AnnouncementSink } from '../executors/executor.js';
import type { Clock } from '../shared/clock.js';

export interface AnnouncementBox extends AnnouncementSink {
  latest(): AnnouncedJobs | undefined;
  /** Whether job `jobId` was announced when it was handed out (asked once: then forgotten). */
  takeAnnounced(jobId: number): boolean;
}

/** Job ids remembered at most (a job that never asks for a machine is forgotten in time). */
const REMEMBERED = 1000;

/** `clock` stamps when an announcement with stages came (their ages grow from then on). */
export function createAnnouncementBox(clock?: Clock): AnnouncementBox {
  let latest: AnnouncedJobs | undefined;
  const announced = new Set<number>();
  return {
    jobs(a) {
      latest = a?.stages && clock ? { ...a, atMs: clock.now().getTime() } : a;
    },
    jobAnnounced(jobId) {
      announced.add(jobId);
      if (announced.size > REMEMBERED) announced.delete(announced.values().next().value as number);
    },
    latest: () => latest,
    takeAnnounced: (jobId) => announced.delete(jobId),
  };
}
