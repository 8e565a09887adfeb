/** Users in GitLab's REST shapes: the basic list entry, the public profile, and `/user`. */
import type { CurrentUserResponse, UserRef, UserResponse } from '../../api/rest-api.js';
import type { UserRecord } from '../store/store.js';

/** The GitLab release whose REST API shapes we follow (`/version` reports it, see the README). */
export const GITLAB_API_VERSION = '17.11.0';

export function presentUserBasic(user: UserRecord, base: string): UserRef & { locked: boolean } {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: 'active',
    locked: false,
    avatar_url: null,
    web_url: `${base}/${user.username}`,
  };
}

export function presentUserPublic(user: UserRecord, base: string): UserResponse {
  return {
    ...presentUserBasic(user, base),
    created_at: user.createdAt.toISOString(),
    bio: '',
    location: '',
    public_email: null,
    linkedin: '',
    twitter: '',
    discord: '',
    website_url: '',
    organization: '',
    job_title: '',
    pronouns: null,
    bot: false,
    work_information: null,
    local_time: null,
  };
}

/** The address GitLab would use for commits by this user: its no-reply address on our host. */
export function userEmail(user: UserRecord, base: string): string {
  const host = new URL(base).hostname || 'localhost';
  return `${user.id}-${user.username}@users.noreply.${host}`;
}

export function presentCurrentUser(user: UserRecord, base: string): CurrentUserResponse {
  const email = userEmail(user, base);
  return {
    ...presentUserPublic(user, base),
    last_sign_in_at: null,
    confirmed_at: user.createdAt.toISOString(),
    last_activity_on: null,
    email,
    theme_id: 1,
    color_scheme_id: 1,
    projects_limit: 100000,
    current_sign_in_at: null,
    identities: [],
    can_create_group: false,
    can_create_project: true,
    two_factor_enabled: false,
    external: false,
    private_profile: false,
    commit_email: email,
    is_admin: user.admin,
    namespace_id: null,
  };
}
