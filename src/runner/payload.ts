/**
 * Normalizes a 201 job payload: the contract allows `null` or a missing field wherever a list or
 * object is empty (GitLab sends `"artifacts": null`, for example). After this every list is an array
 * and every object the runner reads exists, so the job runner and executors need no null checks.
 */
import type { JobPayload } from '../api/runner-api.js';

type Loose = Record<string, unknown>;

function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function object(value: unknown): Loose {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Loose) : {};
}

function steps(value: unknown): JobPayload['steps'] {
  return list<Loose>(value).map((s) => ({
    name: String(s.name ?? 'script'),
    script: list<string>(s.script).map(String),
    timeout: Number(s.timeout ?? 0),
    when: (s.when as JobPayload['steps'][number]['when'] | undefined) ?? 'on_success',
    allow_failure: Boolean(s.allow_failure),
  }));
}

function artifacts(value: unknown): JobPayload['artifacts'] {
  return list<Loose>(value).map((a) => ({
    name: typeof a.name === 'string' ? a.name : '',
    untracked: Boolean(a.untracked),
    paths: list<string>(a.paths),
    exclude: list<string>(a.exclude),
    when: (a.when as JobPayload['artifacts'][number]['when'] | undefined) ?? 'on_success',
    expire_in: typeof a.expire_in === 'string' && a.expire_in !== '' ? a.expire_in : null,
    artifact_type: typeof a.artifact_type === 'string' && a.artifact_type ? a.artifact_type : 'archive',
    artifact_format:
      (a.artifact_format as JobPayload['artifacts'][number]['artifact_format'] | undefined) || 'zip',
  }));
}

export function normalizeJobPayload(raw: unknown): JobPayload {
  const p = object(raw);
  const git = object(p.git_info);
  const features = object(p.features);
  const jobInfo = object(p.job_info);
  return {
    ...(p as unknown as JobPayload),
    job_info: {
      ...(jobInfo as unknown as JobPayload['job_info']),
      project_full_path: String(jobInfo.project_full_path ?? ''),
      project_id: Number(jobInfo.project_id ?? 0),
      time_in_queue_seconds: Number(jobInfo.time_in_queue_seconds ?? 0),
    },
    git_info: {
      ...(git as unknown as JobPayload['git_info']),
      refspecs: list<string>(git.refspecs),
      depth: Number(git.depth ?? 0),
    },
    runner_info: { ...object(p.runner_info), timeout: Number(object(p.runner_info).timeout ?? 0) },
    variables: list<Loose>(p.variables).map((v) => ({
      ...(v as unknown as JobPayload['variables'][number]),
      key: String(v.key ?? ''),
      value: String(v.value ?? ''),
      public: Boolean(v.public),
      masked: Boolean(v.masked),
    })),
    steps: steps(p.steps),
    image: p.image ? (p.image as JobPayload['image']) : null,
    services: list(p.services),
    artifacts: artifacts(p.artifacts),
    cache: list(p.cache),
    credentials: list(p.credentials),
    dependencies: list(p.dependencies),
    features: {
      ...(features as unknown as JobPayload['features']),
      trace_sections: Boolean(features.trace_sections),
    },
  };
}
