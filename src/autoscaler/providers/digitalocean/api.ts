/**
 * The DigitalOcean API v2 calls the provider uses (droplets create / list by tag / get / delete),
 * authenticated with a personal access token (`DIGITALOCEAN_TOKEN`, or
 * `token_file`) as `Authorization: Bearer`. Pagination follows `links.pages.next`; 429 waits for
 * `Retry-After` or `ratelimit-reset`. A create is not repeated after a 5xx or a lost answer (the
 * API has no idempotency key): the provider reconciles by tag and name instead.
 */
import { readFile } from 'node:fs/promises';

import type { Clock } from '../../../shared/clock.js';
import type { ProviderErrorKind } from '../provider.js';
import { createRestClient, type RestClient } from '../rest-client.js';
import type { DigitaloceanProviderConfig } from './config.js';

export interface Droplet {
  id: number;
  name: string;
  status: 'new' | 'active' | 'off' | 'archive';
  created_at: string;
  tags: string[];
  networks: { v4: { ip_address: string; type: 'public' | 'private' }[] };
  region?: { slug: string };
}

interface DoErrorBody {
  id?: string;
  message?: string;
}

const CAPACITY = /droplet limit|exceed|not available|unavailable|capacity/i;

/** The error kind of a DigitalOcean error answer (`{id, message}`). PURE. */
export function classifyDoError(status: number, body: unknown): ProviderErrorKind {
  const e = (body ?? {}) as DoErrorBody;
  if (status === 429 || e.id === 'too_many_requests') return 'rate_limit';
  if (status === 422 && CAPACITY.test(e.message ?? '')) return 'capacity';
  return 'api';
}

function describeDoError(body: unknown): string {
  const e = (body ?? {}) as DoErrorBody;
  return e.message ? `${e.id ?? 'error'}: ${e.message}` : JSON.stringify(body);
}

export interface DigitaloceanApi {
  create(body: object): Promise<Droplet>;
  listByTag(tag: string): Promise<Droplet[]>;
  get(id: number): Promise<Droplet | null>;
  /** Resolves false when the droplet was already gone (404). */
  remove(id: number): Promise<boolean>;
}

/** The API token: `token_file`, else `DIGITALOCEAN_TOKEN`. */
export async function digitaloceanToken(
  config: DigitaloceanProviderConfig,
  env = process.env,
): Promise<string> {
  const token = config.token_file
    ? (await readFile(config.token_file, 'utf8')).trim()
    : env.DIGITALOCEAN_TOKEN;
  if (!token) throw new Error('digitalocean: set DIGITALOCEAN_TOKEN or plugin_config.token_file');
  return token;
}

export async function createDigitaloceanApi(
  config: DigitaloceanProviderConfig,
  clock: Clock,
): Promise<DigitaloceanApi> {
  const token = await digitaloceanToken(config);
  const rest: RestClient = createRestClient({
    baseUrl: config.api_endpoint,
    headers: async () => ({ authorization: `Bearer ${token}` }),
    clock,
    timeoutMs: config.request_timeout * 1000,
    retries: config.retries,
    classify: classifyDoError,
    describe: describeDoError,
  });
  const notFound = (err: unknown): boolean => (err as { status?: number }).status === 404;
  return {
    async create(body) {
      const r = await rest.call<{ droplet: Droplet }>({
        method: 'POST',
        url: 'droplets',
        body,
        idempotent: false,
      });
      return r.body.droplet;
    },
    async listByTag(tag) {
      const out: Droplet[] = [];
      let url: string | undefined = 'droplets';
      let query: Record<string, string | number> | undefined = { tag_name: tag, per_page: 200, page: 1 };
      while (url) {
        const r: { body: { droplets?: Droplet[]; links?: { pages?: { next?: string } } } } = await rest.call({
          method: 'GET',
          url,
          ...(query ? { query } : {}),
          idempotent: true,
        });
        out.push(...(r.body.droplets ?? []));
        url = r.body.links?.pages?.next;
        query = undefined;
      }
      return out;
    },
    async get(id) {
      try {
        return (
          await rest.call<{ droplet: Droplet }>({ method: 'GET', url: `droplets/${id}`, idempotent: true })
        ).body.droplet;
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async remove(id) {
      try {
        await rest.call({ method: 'DELETE', url: `droplets/${id}`, idempotent: true });
        return true;
      } catch (err) {
        if (notFound(err)) return false;
        throw err;
      }
    },
  };
}
