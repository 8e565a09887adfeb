/** The REST API's objects, as far as the page reads them. */
export interface Project {
  id: number;
  name: string;
  path_with_namespace: string;
  visibility: string;
  default_branch: string;
  last_activity_at: string;
}

export interface Pipeline {
  id: number;
  iid?: number;
  project_id: number;
  status: string;
  ref: string;
  sha: string;
  source: string;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  duration?: number | null;
  user?: { username: string; name: string } | null;
}

export interface Job {
  id: number;
  name: string;
  stage: string;
  status: string;
  allow_failure: boolean;
  duration: number | null;
  queued_duration: number | null;
  started_at: string | null;
  finished_at: string | null;
  failure_reason?: string | null;
  pipeline: { id: number; project_id: number };
  runner?: { id: number; description: string } | null;
  artifacts?: { file_type: string; size: number; filename: string }[];
  artifacts_file?: { filename: string; size: number } | null;
  downstream_pipeline?: { id: number; project_id: number; status: string } | null;
  needs?: string[];
}

export interface Runner {
  id: number;
  description: string;
  active: boolean;
  paused?: boolean;
  online?: boolean;
  status: string;
  runner_type?: string;
  tag_list?: string[];
  version?: string | null;
  contacted_at?: string | null;
}

export interface Environment {
  id: number;
  name: string;
  external_url: string | null;
  state: string;
  tier: string;
}

export interface Deployment {
  id: number;
  iid: number;
  status: string;
  created_at: string;
  environment: Environment;
  deployable: Job | null;
}
