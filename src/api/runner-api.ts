/**
 * The GitLab Runner API v4 wire contract, shared by the coordinator (which serves it) and the
 * runner manager (which calls it). Field names are GitLab's, snake_case, so a real GitLab and a
 * real gitlab-runner interoperate with us. Imports nothing internal.
 *
 * Long polling: POST /jobs/request with `last_update` equal to the runner's current queue version
 * is held by the server until a matching job is queued (answered at once with 201) or the poll
 * window ends (204 with X-GitLab-Last-Update). A runner must echo the last seen header value.
 */
import { z } from 'zod';

export const RUNNER_API_PREFIX = '/api/v4';

export const HEADER_LAST_UPDATE = 'x-gitlab-last-update';
export const HEADER_JOB_STATUS = 'job-status';
export const HEADER_TRACE_UPDATE_INTERVAL = 'x-gitlab-trace-update-interval';
export const HEADER_JOB_TOKEN = 'job-token';
export const HEADER_RUNNER_TOKEN = 'runner-token';

export const RUNNER_TOKEN_PREFIX = 'glrt-';
export const JOB_TOKEN_PREFIX = 'glcbt-';
export const ACCESS_TOKEN_PREFIX = 'glpat-';

/** Largest trace PATCH body a runner sends (GitLab's DefaultTracePatchLimit) unless told more. */
export const TRACE_PATCH_LIMIT = 1024 * 1024;
/**
 * A Flotilla coordinator's answers to a trace PATCH carry the largest body it accepts (bytes); a
 * runner that sees it sends chunks up to that size (at most TRACE_PATCH_LIMIT_MAX), fewer round
 * trips and syncs per megabyte. GitLab sends no such header, so its runners keep 1 MiB.
 */
export const HEADER_TRACE_PATCH_LIMIT = 'x-flotilla-trace-patch-limit';
/** The largest trace PATCH body a Flotilla runner sends and a Flotilla coordinator accepts. */
export const TRACE_PATCH_LIMIT_MAX = 4 * 1024 * 1024;
/** The smallest announced limit a runner adopts (a smaller value is ignored as bogus). */
export const TRACE_PATCH_LIMIT_MIN = 64 * 1024;
/**
 * A Flotilla coordinator's answers to a trace PATCH also say how many PATCHes of one job a runner
 * may keep in flight: it stores one that arrives ahead of its predecessor after that one (see
 * `coordinator/routes/trace-arrivals.ts`), so the next chunk travels while the last one is written
 * and synced. GitLab sends no such header, so its runners keep one.
 */
export const HEADER_TRACE_PATCHES_IN_FLIGHT = 'x-flotilla-trace-patches-in-flight';
/** The most PATCHes of one job a Flotilla runner keeps in flight. */
export const TRACE_PATCHES_IN_FLIGHT_MAX = 2;

export const runnerInfoSchema = z
  .object({
    name: z.string().optional(),
    version: z.string().optional(),
    revision: z.string().optional(),
    platform: z.string().optional(),
    architecture: z.string().optional(),
    executor: z.string().optional(),
    shell: z.string().optional(),
    features: z.record(z.boolean()).optional(),
    labels: z.record(z.string()).optional(),
    config: z.record(z.unknown()).optional(),
  })
  .passthrough();
export type RunnerInfo = z.infer<typeof runnerInfoSchema>;

export const verifyRunnerRequestSchema = z.object({
  token: z.string().min(1),
  system_id: z.string().optional(),
  info: runnerInfoSchema.optional(),
});
export type VerifyRunnerRequest = z.infer<typeof verifyRunnerRequestSchema>;

export interface VerifyRunnerResponse {
  id: number;
  token: string;
  token_expires_at: string | null;
}

export const jobRequestSchema = z.object({
  token: z.string().min(1),
  system_id: z.string().optional(),
  last_update: z.string().optional(),
  info: runnerInfoSchema.optional(),
  session: z.unknown().optional(),
});
export type JobRequest = z.infer<typeof jobRequestSchema>;

export interface JobVariable {
  key: string;
  value: string;
  public: boolean;
  masked: boolean;
  file?: boolean;
  raw?: boolean;
}

export type StepWhen = 'on_success' | 'on_failure' | 'always';

export interface JobStep {
  name: 'script' | 'after_script' | 'release' | string;
  script: string[];
  timeout: number;
  when: StepWhen;
  allow_failure: boolean;
}

export interface JobArtifactSpec {
  name: string;
  untracked: boolean;
  paths: string[];
  exclude: string[];
  when: 'on_success' | 'on_failure' | 'always';
  expire_in: string | null;
  artifact_type: string;
  artifact_format: 'zip' | 'gzip' | 'raw';
}

export interface JobCacheSpec {
  key: string;
  untracked: boolean;
  paths: string[];
  policy: 'pull' | 'push' | 'pull-push';
  when: 'on_success' | 'on_failure' | 'always';
  fallback_keys: string[];
}

/** `image:` / `services[]:` `ports` entries (GitLab's JobRequest::Port entity). */
export interface JobImagePort {
  number: number;
  protocol: string;
  name: string | null;
}

/**
 * The job's image, or one of its services. GitLab sends every field (null or empty when the job
 * sets none: `entrypoint`, `pull_policy`, `alias`, `command` are null, `ports` is [], `executor_opts`
 * is {}); `alias`, `command` and `variables` only on services. Readers must accept null and absent
 * alike (older servers omit fields).
 */
export interface JobImage {
  name: string;
  entrypoint?: string[] | null;
  ports?: unknown[];
  executor_opts?: { docker?: { platform?: string; user?: string } };
  pull_policy?: string[] | null;
  alias?: string | null;
  command?: string[] | null;
  variables?: JobVariable[] | null;
}

export interface JobDependency {
  id: number;
  name: string;
  token: string;
  artifacts_file?: { filename: string; size: number };
}

export interface JobPayload {
  id: number;
  token: string;
  allow_git_fetch: boolean;
  job_info: {
    id: number;
    name: string;
    stage: string;
    pipeline_id: number;
    project_id: number;
    project_name: string;
    project_full_path: string;
    /** The user who started the pipeline (GitLab sends it; older servers did not). */
    user_id?: number;
    time_in_queue_seconds: number;
    queue_size: number;
    queue_depth: number;
  };
  git_info: {
    repo_url: string;
    ref: string;
    sha: string;
    before_sha: string;
    ref_type: 'branch' | 'tag';
    repo_object_format: 'sha1';
    protected: boolean;
    depth: number;
    refspecs: string[];
  };
  runner_info: { timeout: number; runner_session_url?: string };
  variables: JobVariable[];
  steps: JobStep[];
  image: JobImage | null;
  services: JobImage[];
  artifacts: JobArtifactSpec[];
  cache: JobCacheSpec[];
  credentials: { type: string; url: string; username: string; password: string }[];
  dependencies: JobDependency[];
  features: { trace_sections: boolean; token_mask_prefixes?: string[]; failure_reasons?: string[] };
  hooks?: { name: string; script: string[] }[];
}

export const updateJobRequestSchema = z.object({
  token: z.string().optional(),
  state: z.enum(['pending', 'running', 'success', 'failed', 'canceled']).optional(),
  failure_reason: z.string().optional(),
  exit_code: z.number().int().optional(),
  checksum: z.string().optional(),
  output: z
    .object({ checksum: z.string().optional(), bytesize: z.number().int().nonnegative().optional() })
    .optional(),
  info: runnerInfoSchema.optional(),
});
export type UpdateJobRequest = z.infer<typeof updateJobRequestSchema>;

/** Remote job states in the Job-Status header: how the runner learns about cancellation. */
export type RemoteJobStatus = 'running' | 'canceling' | 'canceled' | 'failed' | 'success' | 'pending';

/** Parses an inclusive `Content-Range: start-end` header (no `bytes ` prefix, no total). */
export function parseContentRange(header: string | undefined): { start: number; end: number } | null {
  if (!header) return null;
  const m = /^(?:bytes )?(\d+)-(\d+)(?:\/\d+|\/\*)?$/.exec(header.trim());
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start - 1) return null;
  return { start, end };
}

/** Parses `Range: 0-<size>` from a 202/416 trace answer into the stored size. */
export function parseRangeSize(header: string | undefined): number | null {
  if (!header) return null;
  const m = /^(\d+)-(\d+)$/.exec(header.trim());
  return m ? Number(m[2]) : null;
}
