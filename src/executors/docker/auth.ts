/**
 * Registry credentials for pulls, like gitlab-runner: `DOCKER_AUTH_CONFIG` from the job's variables,
 * then from the runner manager's environment, then the job payload's `credentials` (type registry).
 * The first source with an entry for the image's registry wins.
 */
import type { JobPayload } from '../../api/runner-api.js';
import { registryOf } from './image-names.js';

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

/** `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/x` → `host:5000`. */
export function normalizeRegistry(address: string): string {
  const host = address.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '';
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function entryAuth(entry: AuthEntry, registry: string): RegistryAuth | null {
  if (entry.username !== undefined && entry.password !== undefined) {
    return { username: entry.username, password: entry.password, serveraddress: registry };
  }
  if (!entry.auth) return null;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: registry };
}

/** Credentials for `registry` in a DOCKER_AUTH_CONFIG document, or null (also for invalid JSON). */
export function authFromDockerConfig(json: string | undefined, registry: string): RegistryAuth | null {
  if (!json) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  const auths = (parsed as { auths?: Record<string, AuthEntry> } | null)?.auths;
  if (!auths || typeof auths !== 'object') return null;
  for (const [address, entry] of Object.entries(auths)) {
    if (normalizeRegistry(address) === registry && entry && typeof entry === 'object')
      return entryAuth(entry, registry);
  }
  return null;
}

export interface AuthSources {
  jobDockerAuthConfig: string | undefined;
  runnerDockerAuthConfig: string | undefined;
  credentials: JobPayload['credentials'];
}

/** The credentials to pull `image` with, and where they came from; null means anonymous. */
export function authForImage(
  image: string,
  sources: AuthSources,
): { auth: RegistryAuth; source: string } | null {
  const registry = registryOf(image);
  const fromJob = authFromDockerConfig(sources.jobDockerAuthConfig, registry);
  if (fromJob) return { auth: fromJob, source: 'DOCKER_AUTH_CONFIG variable' };
  const fromRunner = authFromDockerConfig(sources.runnerDockerAuthConfig, registry);
  if (fromRunner) return { auth: fromRunner, source: "runner's DOCKER_AUTH_CONFIG" };
  const credential = sources.credentials.find(
    (c) => c.type === 'registry' && normalizeRegistry(c.url) === registry,
  );
  if (credential) {
    return {
      auth: { username: credential.username, password: credential.password, serveraddress: registry },
      source: 'job payload credentials',
    };
  }
  return null;
}
