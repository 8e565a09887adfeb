/**
 * GitLab REST API v4 response shapes we serve (the subset existing GitLab clients rely on).
 * Times are ISO 8601 strings; absent values are null, as GitLab sends them.
 */
import type { FailureReason, JobStatus, PipelineStatus } from './job-status.js';

export interface UserRef {
  id: number;
  username: string;
  name: string;
  state: 'active';
  avatar_url: string | null;
  web_url: string;
}

export interface NamespaceRef {
  id: number;
  name: string;
  path: string;
  kind: 'user' | 'group';
  full_path: string;
  parent_id: number | null;
  web_url: string;
}

export interface ProjectResponse {
  id: number;
  description: string | null;
  name: string;
  name_with_namespace: string;
  path: string;
  path_with_namespace: string;
  created_at: string;
  default_branch: string;
  visibility: 'private' | 'internal' | 'public';
  ssh_url_to_repo: string | null;
  http_url_to_repo: string;
  web_url: string;
  namespace: NamespaceRef;
  last_activity_at: string;
  ci_config_path: string | null;
  empty_repo: boolean;
  archived: boolean;
  jobs_enabled: boolean;
  shared_runners_enabled: boolean;
}

/** A pipeline in full: GitLab's short pipeline shape (`DownstreamPipelineRef`) and the rest. */
export interface PipelineResponse extends DownstreamPipelineRef {
  before_sha: string;
  tag: boolean;
  yaml_errors: string | null;
  user: UserRef;
  started_at: string | null;
  finished_at: string | null;
  committed_at: string | null;
  duration: number | null;
  queued_duration: number | null;
  coverage: string | null;
  name: string | null;
}

/** The runner of a job: a runner without its address (and its status as a plain string). */
export interface JobRunnerRef extends Omit<RunnerResponse, 'ip_address' | 'status'> {
  status: string;
}

export interface JobArtifactFile {
  file_type: string;
  size: number;
  filename: string;
  file_format: string | null;
}

/** The fields a job and a bridge share, in GitLab's order. */
interface JobFields {
  id: number;
  status: JobStatus;
  stage: string;
  name: string;
  ref: string;
  tag: boolean;
  coverage: number | null;
  allow_failure: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  erased_at: string | null;
  duration: number | null;
  queued_duration: number | null;
  user: UserRef;
  commit: { id: string; short_id: string; title: string };
}

export interface JobResponse extends JobFields {
  pipeline: { id: number; project_id: number; ref: string; sha: string; status: PipelineStatus };
  web_url: string;
  project: { ci_job_token_scope_enabled: boolean };
  artifacts: JobArtifactFile[];
  artifacts_file?: { filename: string; size: number };
  artifacts_expire_at: string | null;
  runner: JobRunnerRef | null;
  tag_list: string[];
  failure_reason?: FailureReason;
  when?: string;
  exit_code?: number | null;
  /**
   * Flotilla extension (GitLab's job objects have no such field): the names of the jobs in the
   * job's `needs:` (a needed parallel job by each of its instances, `lint 1/2`, `lint 2/2`); null
   * when the job has no `needs:` and waits for the earlier stages.
   */
  needs?: string[] | null;
}

/** The pipeline a bridge created, inside its `downstream_pipeline`. */
/** GitLab's short pipeline shape (a bridge's `downstream_pipeline`, the start of every pipeline). */
export interface DownstreamPipelineRef {
  id: number;
  iid: number;
  project_id: number;
  sha: string;
  ref: string;
  status: PipelineStatus;
  source: string;
  created_at: string;
  updated_at: string;
  web_url: string;
}

/** `GET /projects/:id/pipelines/:pipeline_id/bridges`: a trigger job, never sent to a runner. */
export interface BridgeResponse extends Omit<JobFields, 'coverage' | 'erased_at'> {
  coverage: null;
  erased_at: null;
  pipeline: DownstreamPipelineRef;
  web_url: string;
  failure_reason?: FailureReason;
  /** Flotilla extension, as on job objects: the names in the bridge's `needs:`, or null. */
  needs?: string[] | null;
  /** null until the child pipeline exists (or when it could not be created). */
  downstream_pipeline: DownstreamPipelineRef | null;
}

export interface VariableResponse {
  variable_type: 'env_var' | 'file';
  key: string;
  value: string;
  protected: boolean;
  masked: boolean;
  raw: boolean;
  environment_scope: string;
  description: string | null;
}

export interface RunnerResponse {
  id: number;
  description: string;
  ip_address: string | null;
  active: boolean;
  paused: boolean;
  is_shared: boolean;
  runner_type: 'instance_type' | 'group_type' | 'project_type';
  name: string | null;
  online: boolean;
  status: 'online' | 'offline' | 'stale' | 'never_contacted';
}

export interface RunnerDetailResponse extends RunnerResponse {
  tag_list: string[];
  run_untagged: boolean;
  locked: boolean;
  access_level: 'not_protected' | 'ref_protected';
  maximum_timeout: number | null;
  contacted_at: string | null;
  version: string | null;
  revision: string | null;
  platform: string | null;
  architecture: string | null;
  maintenance_note: string | null;
  projects: unknown[];
  groups: unknown[];
}

export interface CreatedRunnerResponse {
  id: number;
  token: string;
  token_expires_at: string | null;
}

/** GitLab's error body: `{"message": ...}` (string or field → messages map) or `{"error": ...}`. */
export interface ErrorBody {
  message: string | Record<string, string[]>;
  error?: string;
  code?: string;
}

/** `GET /users/:id` and `GET /user`: the public profile (GitLab's `UserPublic` for `/user`). */
export interface UserResponse extends UserRef {
  locked: boolean;
  created_at: string;
  bio: string;
  location: string;
  public_email: string | null;
  linkedin: string;
  twitter: string;
  discord: string;
  website_url: string;
  organization: string;
  job_title: string;
  pronouns: string | null;
  bot: boolean;
  work_information: string | null;
  local_time: string | null;
}

/** `GET /user`: the authenticated user, with the private fields GitLab adds for yourself. */
export interface CurrentUserResponse extends UserResponse {
  last_sign_in_at: string | null;
  confirmed_at: string;
  last_activity_on: string | null;
  email: string;
  theme_id: number;
  color_scheme_id: number;
  projects_limit: number;
  current_sign_in_at: string | null;
  identities: unknown[];
  can_create_group: boolean;
  can_create_project: boolean;
  two_factor_enabled: boolean;
  external: boolean;
  private_profile: boolean;
  commit_email: string;
  is_admin: boolean;
  namespace_id: number | null;
}

/** `GET /version` and `GET /metadata`. */
export interface VersionResponse {
  version: string;
  revision: string;
  kas: {
    enabled: boolean;
    externalUrl: string | null;
    externalK8sProxyUrl: string | null;
    version: string | null;
  };
  enterprise: boolean;
}
