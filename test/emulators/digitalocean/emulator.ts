/**
 * A DigitalOcean API v2 emulator (test part only), following the published reference: droplets
 * create (202 with `links.actions`), list by `tag_name` with `page` / `per_page` and
 * `links.pages.next`, get, delete (204), droplet actions and `GET /v2/actions/{id}` (action objects
 * `in-progress` → `completed`), error bodies `{id, message}`, `ratelimit-*` headers, Bearer token
 * auth. Each droplet boots a machine through a `MachineHost`. Faults: the droplet limit, 5xx, 429,
 * a region outage, a droplet that never boots, a lost create answer, a delete that answers 204 but
 * keeps the droplet (what GitLab's hanging-droplets-cleaner was written for).
 */
import { background } from '../background.js';
import { startEmuServer, type EmuAnswer, type EmuRequest, type EmuServer } from '../http-server.js';
import type { MachineHost } from '../machine-host.js';

export interface EmuDroplet {
  id: number;
  name: string;
  status: 'new' | 'active' | 'off' | 'archive';
  created_at: string;
  tags: string[];
  region: string;
  size: string;
  image: string | number;
  address: string;
  handle: string;
}

interface EmuAction {
  id: number;
  status: 'in-progress' | 'completed' | 'errored';
  type: string;
  started_at: string;
  completed_at: string | null;
  resource_id: number;
  resource_type: 'droplet';
  region_slug: string;
}

export interface DoFaults {
  /** The account's droplet limit; beyond it creations answer 422. */
  dropletLimit: number | null;
  /** Every call answers 503. */
  down: boolean;
  /** The next calls answer this status (429 too_many_requests, 5xx server_error). */
  next: number[];
  neverBoot: number;
  /** The next droplets stay `new` (their create action never completes). */
  stuckNew: number;
  loseCreateAnswers: number;
  /** The next deletes answer 204 but the droplet stays. */
  keepOnDelete: number;
}

export interface DoEmulator {
  endpoint: string;
  token: string;
  faults: DoFaults;
  server: EmuServer;
  droplets(): EmuDroplet[];
  /** A droplet created outside any manager (as a hanging droplet), tagged like the group's. */
  plant(name: string, tags: string[], ageMs: number): Promise<EmuDroplet>;
  close(): Promise<void>;
}

const REGIONS = new Set(['nyc1', 'nyc3', 'sfo3', 'ams3', 'fra1']);
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,253}[a-zA-Z0-9])?$/;

function doError(status: number, id: string, message: string): EmuAnswer {
  return { status, body: { id, message } };
}

export async function startDoEmulator(o: { host: MachineHost; pageSize?: number }): Promise<DoEmulator> {
  const token = `dop_v1_${'e'.repeat(64)}`;
  const faults: DoFaults = {
    dropletLimit: null,
    down: false,
    next: [],
    neverBoot: 0,
    stuckNew: 0,
    loseCreateAnswers: 0,
    keepOnDelete: 0,
  };
  const droplets = new Map<number, EmuDroplet>();
  const actions = new Map<number, EmuAction>();
  const { track, settle } = background();
  let seq = 3_000_000;
  let base = '';

  function dropletJson(d: EmuDroplet): Record<string, unknown> {
    const v4 = d.address
      ? [
          { ip_address: d.address, netmask: '255.255.255.0', gateway: '', type: 'private' },
          { ip_address: d.address, netmask: '255.255.255.0', gateway: '', type: 'public' },
        ]
      : [];
    return {
      id: d.id,
      name: d.name,
      memory: 4096,
      vcpus: 2,
      disk: 80,
      locked: false,
      status: d.status,
      created_at: d.created_at,
      features: [],
      image: { slug: d.image },
      size_slug: d.size,
      networks: { v4, v6: [] },
      region: { slug: d.region, name: d.region },
      tags: d.tags,
      volume_ids: [],
    };
  }

  function newAction(d: EmuDroplet, type: string): EmuAction {
    const a: EmuAction = {
      id: ++seq,
      status: 'in-progress',
      type,
      started_at: new Date().toISOString(),
      completed_at: null,
      resource_id: d.id,
      resource_type: 'droplet',
      region_slug: d.region,
    };
    actions.set(a.id, a);
    return a;
  }

  const complete = (a: EmuAction, status: EmuAction['status'] = 'completed'): void => {
    a.status = status;
    a.completed_at = new Date().toISOString();
  };

  async function boot(d: EmuDroplet, a: EmuAction, engine: boolean, userData?: string): Promise<void> {
    try {
      const m = await o.host.boot({ engine, userData });
      d.handle = m.handle;
      d.address = m.address;
      d.status = 'active';
      complete(a);
    } catch {
      droplets.delete(d.id);
      complete(a, 'errored');
    }
  }

  function create(r: EmuRequest): EmuAnswer {
    const b = (r.body ?? {}) as Record<string, unknown>;
    const name = String(b.name ?? '');
    if (!HOSTNAME.test(name)) return doError(422, 'unprocessable_entity', 'Name is invalid.');
    if (!REGIONS.has(String(b.region)))
      return doError(422, 'unprocessable_entity', 'Region is not available.');
    if (!b.size || b.image === undefined)
      return doError(
        422,
        'unprocessable_entity',
        'You specified an invalid size or image for Droplet creation.',
      );
    if (faults.dropletLimit !== null && droplets.size >= faults.dropletLimit)
      return doError(
        422,
        'unprocessable_entity',
        'creating this/these droplet(s) will exceed your droplet limit',
      );
    const d: EmuDroplet = {
      id: ++seq,
      name,
      status: 'new',
      created_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      tags: Array.isArray(b.tags) ? b.tags.map(String) : [],
      region: String(b.region),
      size: String(b.size),
      image: b.image as string | number,
      address: '',
      handle: '',
    };
    droplets.set(d.id, d);
    const a = newAction(d, 'create');
    const engine = faults.neverBoot > 0 ? (faults.neverBoot--, false) : true;
    if (faults.stuckNew > 0) faults.stuckNew--;
    else track(boot(d, a, engine, typeof b.user_data === 'string' ? b.user_data : undefined));
    if (faults.loseCreateAnswers > 0) {
      faults.loseCreateAnswers--;
      return { status: 0 };
    }
    const href = `${base}/v2/actions/${a.id}`;
    return {
      status: 202,
      body: { droplet: dropletJson(d), links: { actions: [{ id: a.id, rel: 'create', href }] } },
    };
  }

  function list(r: EmuRequest): EmuAnswer {
    const tag = r.query.get('tag_name');
    const all = [...droplets.values()].filter((d) => !tag || d.tags.includes(tag));
    const perPage = Math.min(o.pageSize ?? 200, Number(r.query.get('per_page') ?? 20));
    const page = Math.max(1, Number(r.query.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number): string =>
      `${base}/v2/droplets?page=${p}&per_page=${perPage}${tag ? `&tag_name=${encodeURIComponent(tag)}` : ''}`;
    const pages: Record<string, string> = {};
    if (page > 1) Object.assign(pages, { first: link(1), prev: link(page - 1) });
    if (page < last) Object.assign(pages, { next: link(page + 1), last: link(last) });
    const items = all.slice((page - 1) * perPage, page * perPage);
    return {
      status: 200,
      body: { droplets: items.map(dropletJson), links: { pages }, meta: { total: all.length } },
    };
  }

  function remove(id: number): EmuAnswer {
    const d = droplets.get(id);
    if (!d) return notFound();
    if (faults.keepOnDelete > 0) {
      faults.keepOnDelete--;
      return { status: 204 };
    }
    d.status = 'archive';
    track(
      (async () => {
        await o.host.destroy(d.handle).catch(() => undefined);
        droplets.delete(id);
      })(),
    );
    return { status: 204 };
  }

  function act(id: number, r: EmuRequest): EmuAnswer {
    const d = droplets.get(id);
    if (!d) return notFound();
    const type = String((r.body as { type?: string } | undefined)?.type ?? '');
    if (!['power_off', 'shutdown', 'power_on', 'reboot'].includes(type))
      return doError(422, 'unprocessable_entity', `Action type '${type}' is not valid.`);
    const a = newAction(d, type);
    d.status = type === 'power_on' || type === 'reboot' ? 'active' : 'off';
    complete(a);
    return { status: 201, body: { action: a } };
  }

  const notFound = (): EmuAnswer =>
    doError(404, 'not_found', 'The resource you were accessing could not be found.');
  const num = (r: EmuRequest): number => Number(r.params[0]);
  const routes = [
    { method: 'POST', pattern: /^\/v2\/droplets$/, handler: create },
    { method: 'GET', pattern: /^\/v2\/droplets$/, handler: list },
    {
      method: 'GET',
      pattern: /^\/v2\/droplets\/(\d+)$/,
      handler: (r: EmuRequest) => {
        const d = droplets.get(num(r));
        return d ? { status: 200, body: { droplet: dropletJson(d) } } : notFound();
      },
    },
    { method: 'DELETE', pattern: /^\/v2\/droplets\/(\d+)$/, handler: (r: EmuRequest) => remove(num(r)) },
    {
      method: 'POST',
      pattern: /^\/v2\/droplets\/(\d+)\/actions$/,
      handler: (r: EmuRequest) => act(num(r), r),
    },
    {
      method: 'GET',
      pattern: /^\/v2\/actions\/(\d+)$/,
      handler: (r: EmuRequest) => {
        const a = actions.get(num(r));
        return a ? { status: 200, body: { action: a } } : notFound();
      },
    },
  ];

  function before(r: EmuRequest): EmuAnswer | null {
    if (r.headers.authorization !== `Bearer ${token}`)
      return doError(401, 'Unauthorized', 'Unable to authenticate you');
    const reset = String(Math.floor(Date.now() / 1000) + 1);
    if (faults.down) return doError(503, 'service_unavailable', 'Service is temporarily unavailable.');
    const status = faults.next.shift();
    if (status === 429)
      return {
        ...doError(429, 'too_many_requests', 'API Rate limit exceeded.'),
        headers: { 'ratelimit-limit': '5000', 'ratelimit-remaining': '0', 'ratelimit-reset': reset },
      };
    if (status !== undefined) return doError(status, 'server_error', 'Unexpected server-side error');
    return null;
  }

  const server = await startEmuServer(routes, before, () => notFound());
  base = server.url;
  return {
    endpoint: `${server.url}/v2/`,
    token,
    faults,
    server,
    droplets: () => [...droplets.values()],
    async plant(name, tags, ageMs) {
      const d: EmuDroplet = {
        id: ++seq,
        name,
        status: 'new',
        created_at: new Date(Date.now() - ageMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        tags,
        region: 'nyc1',
        size: 's-1vcpu-1gb',
        image: 'docker-20-04',
        address: '',
        handle: '',
      };
      droplets.set(d.id, d);
      await boot(d, newAction(d, 'create'), true);
      return d;
    },
    async close() {
      await settle();
      await server.close();
    },
  };
}
