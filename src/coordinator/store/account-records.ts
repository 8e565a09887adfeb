/** Store records of accounts and runners: users, access tokens, projects, runners; and paging. */

export interface Page {
  /** 1-based. */
  page: number;
  perPage: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
}

export interface UserRecord {
  id: number;
  username: string;
  name: string;
  admin: boolean;
  createdAt: Date;
}

export interface AccessTokenRecord {
  id: number;
  userId: number;
  name: string;
  tokenHash: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  revoked: boolean;
}

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

/** `GET /users` filters: an exact username, or a case-insensitive part of the username or name. */
export interface UserFilter {
  username?: string;
  search?: string;
}

export type RunnerType = 'instance_type' | 'group_type' | 'project_type';
export type AccessLevel = 'not_protected' | 'ref_protected';

export interface RunnerRecord {
  id: number;
  tokenHash: string;
  description: string;
  tagList: string[];
  runUntagged: boolean;
  paused: boolean;
  locked: boolean;
  accessLevel: AccessLevel;
  maximumTimeout: number | null;
  runnerType: RunnerType;
  maintenanceNote: string | null;
  createdAt: Date;
  contactedAt: Date | null;
  version: string | null;
  revision: string | null;
  platform: string | null;
  architecture: string | null;
  executor: string | null;
  ipAddress: string | null;
}

export interface NewRunner {
  tokenHash: string;
  description: string;
  tagList: string[];
  runUntagged: boolean;
  paused: boolean;
  locked: boolean;
  accessLevel: AccessLevel;
  maximumTimeout: number | null;
  runnerType: RunnerType;
  maintenanceNote: string | null;
}

export type RunnerPatch = Partial<
  Pick<
    RunnerRecord,
    | 'description'
    | 'tagList'
    | 'runUntagged'
    | 'paused'
    | 'locked'
    | 'accessLevel'
    | 'maximumTimeout'
    | 'maintenanceNote'
    | 'contactedAt'
    | 'version'
    | 'revision'
    | 'platform'
    | 'architecture'
    | 'executor'
    | 'ipAddress'
  >
>;
