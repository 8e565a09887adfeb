/** Environments and deployments → GitLab REST v4 response shapes. */
import type { JobResponse, UserRef } from '../../api/rest-api.js';
import type { DeploymentRecord, EnvironmentRecord } from '../store/store.js';

export interface EnvironmentResponse {
  id: number;
  name: string;
  slug: string;
  external_url: string | null;
  state: EnvironmentRecord['state'];
  tier: EnvironmentRecord['tier'];
  created_at: string;
  updated_at: string;
  auto_stop_at: null;
}

export interface DeploymentResponse {
  id: number;
  iid: number;
  ref: string;
  sha: string;
  status: DeploymentRecord['status'];
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  user: UserRef;
  environment: EnvironmentResponse;
  deployable: JobResponse | null;
}

export function presentEnvironment(e: EnvironmentRecord): EnvironmentResponse {
  return {
    id: e.id,
    name: e.name,
    slug: e.slug,
    external_url: e.externalUrl,
    state: e.state,
    tier: e.tier,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
    auto_stop_at: null,
  };
}

export function presentDeployment(
  d: DeploymentRecord,
  environment: EnvironmentRecord,
  user: UserRef,
  deployable: JobResponse | null,
): DeploymentResponse {
  return {
    id: d.id,
    iid: d.iid ?? 0,
    ref: d.ref,
    sha: d.sha,
    status: d.status,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
    finished_at: d.finishedAt ? d.finishedAt.toISOString() : null,
    user,
    environment: presentEnvironment(environment),
    deployable,
  };
}
