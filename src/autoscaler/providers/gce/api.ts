/**
 * The Compute Engine REST API v1 calls the provider uses (instances.insert / list / get / delete and
 * zoneOperations.wait), with Google's own auth library for credentials: a service account key file,
 * or application default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's user credentials,
 * the metadata server). A service account key signs self-signed JWTs for the Compute API audience
 * (no token exchange round trip). Errors are classified from Google's error body (`error.errors[].reason`)
 * and from operation errors (`QUOTA_EXCEEDED`, `ZONE_RESOURCE_POOL_EXHAUSTED`).
 */
import { randomUUID } from 'node:crypto';

import { GoogleAuth } from 'google-auth-library';

import type { Clock } from '../../../shared/clock.js';
import { ProviderError, type ProviderErrorKind } from '../provider.js';
import { createRestClient, type RestClient } from '../rest-client.js';
import type { GceProviderConfig } from './config.js';

/** The audience of self-signed JWTs: the API's canonical service URL, whatever endpoint is called. */
export const COMPUTE_AUDIENCE = 'https://compute.googleapis.com/';

export interface GceInstance {
  id?: string;
  name: string;
  zone: string;
  status: string;
  labels?: Record<string, string>;
  creationTimestamp?: string;
  networkInterfaces?: { networkIP?: string; accessConfigs?: { natIP?: string }[] }[];
}

export interface GceOperation {
  name: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  error?: { errors?: { code: string; message?: string }[] };
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
}

interface GoogleErrorBody {
  error?: { code?: number; message?: string; errors?: { reason?: string; message?: string }[] };
}

const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RATE_LIMIT_EXCEEDED']);
const QUOTA_CODES = new Set([
  'quotaExceeded',
  'QUOTA_EXCEEDED',
  'ZONE_RESOURCE_POOL_EXHAUSTED',
  'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS',
]);

/** The error kind of a Google API error answer. PURE. */
export function classifyGoogleError(status: number, body: unknown): ProviderErrorKind {
  const reasons = ((body as GoogleErrorBody | null)?.error?.errors ?? []).map((e) => e.reason ?? '');
  if (status === 429 || reasons.some((r) => RATE_REASONS.has(r))) return 'rate_limit';
  if (reasons.some((r) => QUOTA_CODES.has(r))) return 'capacity';
  return 'api';
}

/** The error kind of a failed zone operation. PURE. */
export function operationErrorKind(op: GceOperation): ProviderErrorKind {
  const codes = (op.error?.errors ?? []).map((e) => e.code);
  if (codes.some((c) => QUOTA_CODES.has(c))) return 'capacity';
  if (codes.some((c) => RATE_REASONS.has(c)) || op.httpErrorStatusCode === 429) return 'rate_limit';
  return 'api';
}

function describeGoogleError(body: unknown): string {
  const e = (body as GoogleErrorBody | null)?.error;
  if (!e) return typeof body === 'string' ? body : JSON.stringify(body);
  const reasons = (e.errors ?? []).map((x) => x.reason).filter(Boolean);
  return `${e.message ?? ''}${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`;
}

export interface GceApi {
  insert(zone: string, body: object, sourceInstanceTemplate?: string): Promise<GceOperation>;
  remove(zone: string, name: string): Promise<GceOperation | null>;
  get(zone: string, name: string): Promise<GceInstance | null>;
  list(zone: string, filter: string): Promise<GceInstance[]>;
  /** Waits until the operation is DONE (or `timeoutMs` passes: then throws a `timeout`). */
  wait(zone: string, op: GceOperation, timeoutMs: number): Promise<GceOperation>;
}

async function authHeaders(config: GceProviderConfig): Promise<() => Promise<Record<string, string>>> {
  const auth = new GoogleAuth(config.credentials_file ? { keyFilename: config.credentials_file } : {});
  return async (): Promise<Record<string, string>> => {
    const headers = await auth.getRequestHeaders(COMPUTE_AUDIENCE);
    const value = headers.get('authorization');
    const out: Record<string, string> = {};
    if (value) out.authorization = value;
    return out;
  };
}

/** The answer of `call`, or null where the resource is gone (HTTP 404). */
async function nullIfNotFound<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (err) {
    if ((err as { status?: number }).status === 404) return null;
    throw err;
  }
}

export async function createGceApi(config: GceProviderConfig, clock: Clock): Promise<GceApi> {
  const rest: RestClient = createRestClient({
    baseUrl: config.api_endpoint,
    headers: await authHeaders(config),
    clock,
    timeoutMs: config.request_timeout * 1000,
    retries: config.retries,
    classify: classifyGoogleError,
    describe: describeGoogleError,
  });
  const zonePath = (zone: string, rest = ''): string => `projects/${config.project}/zones/${zone}/${rest}`;

  return {
    async insert(zone, body, template) {
      // requestId makes a repeated insert (after a 5xx or a lost answer) the same request.
      const query = { requestId: randomUUID(), ...(template ? { sourceInstanceTemplate: template } : {}) };
      const r = await rest.call<GceOperation>({
        method: 'POST',
        url: zonePath(zone, 'instances'),
        query,
        body,
        idempotent: true,
      });
      return r.body;
    },
    remove(zone, name) {
      return nullIfNotFound(async () => {
        const r = await rest.call<GceOperation>({
          method: 'DELETE',
          url: zonePath(zone, `instances/${encodeURIComponent(name)}`),
          query: { requestId: randomUUID() },
          idempotent: true,
        });
        return r.body;
      });
    },
    get(zone, name) {
      return nullIfNotFound(async () => {
        const r = await rest.call<GceInstance>({
          method: 'GET',
          url: zonePath(zone, `instances/${encodeURIComponent(name)}`),
          idempotent: true,
        });
        return r.body;
      });
    },
    async list(zone, filter) {
      const out: GceInstance[] = [];
      let pageToken: string | undefined;
      do {
        const r = await rest.call<{ items?: GceInstance[]; nextPageToken?: string }>({
          method: 'GET',
          url: zonePath(zone, 'instances'),
          query: { filter, maxResults: 500, pageToken },
          idempotent: true,
        });
        out.push(...(r.body.items ?? []));
        pageToken = r.body.nextPageToken;
      } while (pageToken);
      return out;
    },
    async wait(zone, op, timeoutMs) {
      const deadline = clock.now().getTime() + timeoutMs;
      let current = op;
      while (current.status !== 'DONE') {
        if (clock.now().getTime() >= deadline)
          throw new ProviderError('timeout', `operation ${op.name} not done within ${timeoutMs / 1000}s`);
        const r = await rest.call<GceOperation>({
          method: 'POST',
          url: zonePath(zone, `operations/${encodeURIComponent(op.name)}/wait`),
          idempotent: true,
        });
        current = r.body;
      }
      return current;
    },
  };
}
