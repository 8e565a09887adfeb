/**
 * Environments and the deployments of `environment:` jobs, in GitLab's terms: the environments
 * aggregate of the store port.
 */
import type { Page, Paged } from './paging.js';

export type EnvironmentState = 'available' | 'stopping' | 'stopped';
export type EnvironmentTier = 'production' | 'staging' | 'testing' | 'development' | 'other';

export interface EnvironmentRecord {
  id: number;
  projectId: number;
  /** Unique per project, after variable expansion. */
  name: string;
  slug: string;
  externalUrl: string | null;
  state: EnvironmentState;
  tier: EnvironmentTier;
  createdAt: Date;
  updatedAt: Date;
}

export type NewEnvironment = Pick<EnvironmentRecord, 'projectId' | 'name' | 'slug' | 'externalUrl' | 'tier'>;
export type EnvironmentPatch = Partial<Pick<EnvironmentRecord, 'externalUrl' | 'state'>>;

export interface EnvironmentFilter {
  /** Exact name. */
  name?: string;
  /** Names containing this text. */
  search?: string;
  states?: EnvironmentState[];
}

export type DeploymentStatus =
  'created' | 'running' | 'success' | 'failed' | 'canceled' | 'skipped' | 'blocked';

/**
 * A job with `environment:` that ran. Only `action: start` rows are GitLab deployments (they have
 * an `iid`); `stop`, `prepare`, `verify` and `access` rows only link the job to its environment.
 */
export interface DeploymentRecord {
  id: number;
  /** Per-project sequence of deployments; null for rows that are not deployments. */
  iid: number | null;
  projectId: number;
  environmentId: number;
  jobId: number;
  pipelineId: number;
  action: string;
  ref: string;
  sha: string;
  tag: boolean;
  status: DeploymentStatus;
  userId: number;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export type NewDeployment = Omit<DeploymentRecord, 'id' | 'iid' | 'createdAt' | 'updatedAt' | 'finishedAt'>;
export type DeploymentPatch = Partial<Pick<DeploymentRecord, 'status' | 'finishedAt'>>;

export interface DeploymentFilter {
  environmentId?: number;
  status?: DeploymentStatus;
  pipelineId?: number;
  /** Default false: only deployments (`action: start`); true adds the other environment jobs. */
  allActions?: boolean;
  /** Default `id`. */
  orderBy?: 'id' | 'iid' | 'created_at' | 'updated_at' | 'ref';
  /** Default `asc`, as GitLab's deployments API. */
  sort?: 'asc' | 'desc';
}

export interface EnvironmentStore {
  /** The project's environment of that name, created from `input` when missing (races included). */
  findOrCreateEnvironment(input: NewEnvironment): Promise<EnvironmentRecord>;
  getEnvironment(id: number): Promise<EnvironmentRecord | null>;
  updateEnvironment(id: number, patch: EnvironmentPatch): Promise<EnvironmentRecord | null>;
  /** By id ascending. */
  listEnvironments(
    projectId: number,
    filter: EnvironmentFilter,
    page: Page,
  ): Promise<Paged<EnvironmentRecord>>;
  /**
   * Records a job's environment link; `action: start` gets the project's next deployment iid.
   * Throws FLO_ERR_CONFLICT when the job already has one.
   */
  createDeployment(input: NewDeployment): Promise<DeploymentRecord>;
  updateDeployment(id: number, patch: DeploymentPatch): Promise<DeploymentRecord | null>;
  findDeploymentByJob(jobId: number): Promise<DeploymentRecord | null>;
  listDeployments(projectId: number, filter: DeploymentFilter, page: Page): Promise<Paged<DeploymentRecord>>;
}
