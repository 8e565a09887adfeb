/** Projects and their CI/CD variables: the projects aggregate of the store port. */
import type { Page, Paged } from './paging.js';

export interface ProjectRecord {
  id: number;
  name: string;
  path: string;
  namespacePath: string;
  description: string | null;
  defaultBranch: string;
  visibility: 'private' | 'internal' | 'public';
  ciConfigPath: string | null;
  /** Branch name patterns (glob, `*` wildcard) treated as protected; default: the default branch. */
  protectedBranches: string[];
  creatorId: number;
  createdAt: Date;
  lastActivityAt: Date;
}

/** What `updateProject` may change (a project's path and namespace never change). */
export type ProjectPatch = Partial<
  Pick<ProjectRecord, 'name' | 'description' | 'defaultBranch' | 'visibility' | 'ciConfigPath'>
>;

export interface ProjectFilter {
  /** Only projects this user may see: not private, or created by them. */
  visibleToUserId?: number;
}

export interface VariableRecord {
  projectId: number;
  key: string;
  value: string;
  variableType: 'env_var' | 'file';
  protected: boolean;
  masked: boolean;
  raw: boolean;
  environmentScope: string;
  description: string | null;
}

export interface ProjectStore {
  /** Throws FlotillaError FLO_ERR_CONFLICT when namespace/path exists. */
  createProject(input: Omit<ProjectRecord, 'id' | 'createdAt' | 'lastActivityAt'>): Promise<ProjectRecord>;
  getProject(id: number): Promise<ProjectRecord | null>;
  findProjectByPath(namespacePath: string, path: string): Promise<ProjectRecord | null>;
  /** Projects by id; with `visibleToUserId`, only those that user may see (not others' private ones). */
  listProjects(page: Page, filter?: ProjectFilter): Promise<Paged<ProjectRecord>>;
  touchProject(id: number, at: Date): Promise<void>;
  updateProject(id: number, patch: ProjectPatch): Promise<ProjectRecord | null>;
  /**
   * Deletes the project with everything in it (pipelines, jobs, logs, artifact records, variables,
   * environments, deployments) atomically; false when it did not exist.
   */
  deleteProject(id: number): Promise<boolean>;

  // project CI variables
  listVariables(projectId: number): Promise<VariableRecord[]>;
  getVariable(projectId: number, key: string, environmentScope?: string): Promise<VariableRecord | null>;
  /** Throws FLO_ERR_CONFLICT when the key (and scope) exists. */
  createVariable(input: VariableRecord): Promise<VariableRecord>;
  updateVariable(
    projectId: number,
    key: string,
    environmentScope: string,
    patch: Partial<Omit<VariableRecord, 'projectId' | 'key'>>,
  ): Promise<VariableRecord | null>;
  deleteVariable(projectId: number, key: string, environmentScope: string): Promise<boolean>;
}
