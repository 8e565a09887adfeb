/** Users and their personal access tokens: the accounts aggregate of the store port. */
import type { Page, Paged } from './paging.js';

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

/** `GET /users` filters: an exact username, or a case-insensitive part of the username or name. */
export interface UserFilter {
  username?: string;
  search?: string;
}

export interface AccountStore {
  getUser(id: number): Promise<UserRecord | null>;
  /** Creates the root user (id 1, username `root`) if missing and returns it. */
  ensureRootUser(): Promise<UserRecord>;
  /** A new user; a taken username is FLO_ERR_CONFLICT. */
  createUser(input: Pick<UserRecord, 'username' | 'name' | 'admin'>): Promise<UserRecord>;
  createAccessToken(
    input: Omit<AccessTokenRecord, 'id' | 'createdAt' | 'revoked'>,
  ): Promise<AccessTokenRecord>;
  findAccessTokenByHash(tokenHash: string): Promise<AccessTokenRecord | null>;
  getAccessToken(id: number): Promise<AccessTokenRecord | null>;
  /** Marks the token revoked (for good: it never authenticates again); null when it does not exist. */
  revokeAccessToken(id: number): Promise<AccessTokenRecord | null>;
  /** Users by id ascending. */
  listUsers(filter: UserFilter, page: Page): Promise<Paged<UserRecord>>;
}
