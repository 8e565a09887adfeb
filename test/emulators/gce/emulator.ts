/**
 * A Compute Engine API v1 emulator (test part only), following the published REST reference:
 * instances.insert / list / get / delete under `/compute/v1/projects/{project}/zones/{zone}/`,
 * zone operations (`PENDING` → `RUNNING` → `DONE`, `operations/{op}/wait`), `requestId`
 * idempotency, `labels.KEY=VALUE` filters, `maxResults` / `pageToken` pagination, Google's error
 * body (`error.code`, `error.errors[].reason`, `error.status`), and quota errors in the operation
 * (`QUOTA_EXCEEDED`). Requests must carry a self-signed JWT of the emulator's service account.
 * Each instance boots a machine through a `MachineHost`. Faults: quota, 5xx, 429, a zone outage,
 * an instance that never boots, an answer that is lost.
 */
import { randomBytes } from 'node:crypto';

import { background } from '../background.js';
import { startEmuServer, type EmuAnswer, type EmuRequest, type EmuServer } from '../http-server.js';
import type { MachineHost } from '../machine-host.js';
import { checkBearer, makeServiceAccount, type ServiceAccount } from './auth.js';

export interface EmuInstance {
  id: string;
  name: string;
  zone: string;
  status: 'PROVISIONING' | 'STAGING' | 'RUNNING' | 'STOPPING' | 'TERMINATED';
  labels: Record<string, string>;
  creationTimestamp: string;
  machineType: string;
  networkIP: string;
  handle: string;
}

interface EmuOperation {
  id: string;
  name: string;
  zone: string;
  operationType: 'insert' | 'delete';
  targetLink: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  insertTime: string;
  endTime?: string;
  error?: { errors: { code: string; message: string }[] };
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
}

export interface GceFaults {
  /** The most instances the project may hold (CPUS quota); beyond it inserts fail with QUOTA_EXCEEDED. */
  quota: number | null;
  /** Zones whose every call answers 503. */
  zonesDown: Set<string>;
  /** The next calls answer this status (429 rateLimitExceeded, 500/503 backendError). */
  next: number[];
  /** The next instances never start an engine (RUNNING, nothing answers). */
  neverBoot: number;
  /** The next inserts are carried out but never answered (the client times out). */
  loseInsertAnswers: number;
}

export interface GceEmulator {
  /** The `api_endpoint` to configure: `<url>/compute/v1/`. */
  endpoint: string;
  project: string;
  serviceAccount: ServiceAccount;
  faults: GceFaults;
  server: EmuServer;
  instances(): EmuInstance[];
  close(): Promise<void>;
}

const ZONES = new Set(['us-east1-b', 'us-east1-c', 'us-east1-d', 'europe-west1-b']);

export function googleError(code: number, reason: string, message: string, status: string): EmuAnswer {
  return {
    status: code,
    body: { error: { code, message, errors: [{ message, domain: 'global', reason }], status } },
  };
}

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startGceEmulator(o: {
  dir: string;
  host: MachineHost;
  project?: string;
  /** The most items per list page, whatever maxResults asks (to exercise pagination). */
  pageSize?: number;
}): Promise<GceEmulator> {
  const project = o.project ?? 'flotilla-ci';
  const sa = makeServiceAccount(o.dir, project);
  const faults: GceFaults = {
    quota: null,
    zonesDown: new Set(),
    next: [],
    neverBoot: 0,
    loseInsertAnswers: 0,
  };
  const instances = new Map<string, EmuInstance>();
  const operations = new Map<string, EmuOperation>();
  const byRequestId = new Map<string, string>();
  const { track, settle } = background();
  let seq = 1000;
  let base = '';
  const self = (path: string): string => `${base}/compute/v1/projects/${project}/${path}`;
  const key = (zone: string, name: string): string => `${zone}/${name}`;

  function opJson(op: EmuOperation): Record<string, unknown> {
    return {
      kind: 'compute#operation',
      ...op,
      zone: self(`zones/${op.zone}`),
      progress: op.status === 'DONE' ? 100 : 0,
      user: sa.email,
      selfLink: self(`zones/${op.zone}/operations/${op.name}`),
    };
  }

  function instanceJson(i: EmuInstance): Record<string, unknown> {
    const { handle: _handle, networkIP, ...rest } = i;
    return {
      kind: 'compute#instance',
      ...rest,
      zone: self(`zones/${i.zone}`),
      networkInterfaces: [{ name: 'nic0', network: self('global/networks/default'), networkIP }],
      selfLink: self(`zones/${i.zone}/instances/${i.name}`),
    };
  }

  function newOp(zone: string, type: EmuOperation['operationType'], name: string): EmuOperation {
    const op: EmuOperation = {
      id: String(++seq),
      name: `operation-${Date.now()}-${randomBytes(6).toString('hex')}`,
      zone,
      operationType: type,
      targetLink: self(`zones/${zone}/instances/${name}`),
      status: 'RUNNING',
      insertTime: new Date().toISOString(),
    };
    operations.set(op.name, op);
    return op;
  }

  function finish(op: EmuOperation, error?: { code: string; message: string; http: number }): void {
    op.status = 'DONE';
    op.endTime = new Date().toISOString();
    if (error) {
      op.error = { errors: [{ code: error.code, message: error.message }] };
      op.httpErrorStatusCode = error.http;
      op.httpErrorMessage = error.http === 403 ? 'FORBIDDEN' : 'BAD REQUEST';
    }
  }

  async function boot(i: EmuInstance, op: EmuOperation, engine: boolean, userData?: string): Promise<void> {
    try {
      const m = await o.host.boot({ engine, userData });
      i.handle = m.handle;
      i.networkIP = m.address;
      i.status = 'STAGING';
      await sleep(50);
      i.status = 'RUNNING';
      finish(op);
    } catch (err) {
      instances.delete(key(i.zone, i.name));
      finish(op, { code: 'RESOURCE_OPERATION_RATE_EXCEEDED', message: String(err), http: 400 });
    }
  }

  /** The `startup-script` of an insert body's metadata: what the image runs at boot. */
  function startupScript(body: Record<string, unknown>): string | undefined {
    const items = (body.metadata as { items?: { key: string; value: string }[] } | undefined)?.items;
    return items?.find((item) => item.key === 'startup-script')?.value;
  }

  function insert(r: EmuRequest, zone: string): EmuAnswer {
    const requestId = r.query.get('requestId');
    const again = requestId ? operations.get(byRequestId.get(requestId) ?? '') : undefined;
    if (again) return { status: 200, body: opJson(again) };
    const body = (r.body ?? {}) as Record<string, unknown>;
    const name = String(body.name ?? '');
    if (!NAME.test(name))
      return googleError(
        400,
        'invalid',
        `Invalid value for field 'resource.name': '${name}'.`,
        'INVALID_ARGUMENT',
      );
    const template = r.query.get('sourceInstanceTemplate');
    if (!template && (typeof body.machineType !== 'string' || !Array.isArray(body.disks)))
      return googleError(
        400,
        'required',
        'Required field resource.machineType/disks not specified',
        'INVALID_ARGUMENT',
      );
    if ([...instances.values()].some((i) => i.zone === zone && i.name === name))
      return googleError(
        409,
        'alreadyExists',
        `The resource 'projects/${project}/zones/${zone}/instances/${name}' already exists`,
        'ALREADY_EXISTS',
      );
    const op = newOp(zone, 'insert', name);
    if (requestId) byRequestId.set(requestId, op.name);
    const live = [...instances.values()].filter((i) => i.status !== 'TERMINATED').length;
    if (faults.quota !== null && live >= faults.quota) {
      const message = `Quota 'CPUS' exceeded.  Limit: ${faults.quota * 2}.0 in region ${zone.slice(0, -2)}.`;
      finish(op, { code: 'QUOTA_EXCEEDED', message, http: 403 });
      return { status: 200, body: opJson(op) };
    }
    const i: EmuInstance = {
      id: String(BigInt(++seq) * 7919n),
      name,
      zone,
      status: 'PROVISIONING',
      labels: (body.labels as Record<string, string> | undefined) ?? {},
      creationTimestamp: new Date().toISOString(),
      machineType: String(body.machineType ?? template ?? ''),
      networkIP: '',
      handle: '',
    };
    instances.set(key(zone, name), i);
    const engine = faults.neverBoot > 0 ? (faults.neverBoot--, false) : true;
    track(boot(i, op, engine, startupScript(body)));
    if (faults.loseInsertAnswers > 0) {
      faults.loseInsertAnswers--;
      return { status: 0 };
    }
    return { status: 200, body: opJson(op) };
  }

  function remove(zone: string, name: string): EmuAnswer {
    const i = instances.get(key(zone, name));
    if (!i) return notFound(`projects/${project}/zones/${zone}/instances/${name}`);
    const op = newOp(zone, 'delete', name);
    i.status = 'STOPPING';
    track(
      (async () => {
        await o.host.destroy(i.handle).catch(() => undefined);
        instances.delete(key(zone, name));
        finish(op);
      })(),
    );
    return { status: 200, body: opJson(op) };
  }

  function notFound(resource: string): EmuAnswer {
    return googleError(404, 'notFound', `The resource '${resource}' was not found`, 'NOT_FOUND');
  }

  function list(r: EmuRequest, zone: string): EmuAnswer {
    const filter = r.query.get('filter');
    let items = [...instances.values()].filter((i) => i.zone === zone);
    if (filter) {
      const m = /^labels\.([a-z0-9_-]+)\s*=\s*"?([a-z0-9_-]*)"?$/.exec(filter.trim());
      if (!m)
        return googleError(
          400,
          'invalid',
          `Invalid value for field 'filter': '${filter}'.`,
          'INVALID_ARGUMENT',
        );
      items = items.filter((i) => i.labels[m[1] ?? ''] === m[2]);
    }
    const max = Math.min(o.pageSize ?? 500, Number(r.query.get('maxResults') ?? 500));
    const start = Number(Buffer.from(r.query.get('pageToken') ?? '', 'base64url').toString() || 0);
    const page = items.slice(start, start + max);
    const more = start + max < items.length;
    return {
      status: 200,
      body: {
        kind: 'compute#instanceList',
        id: `projects/${project}/zones/${zone}/instances`,
        ...(page.length > 0 ? { items: page.map(instanceJson) } : {}),
        ...(more ? { nextPageToken: Buffer.from(String(start + max)).toString('base64url') } : {}),
        selfLink: self(`zones/${zone}/instances`),
      },
    };
  }

  async function wait(zone: string, name: string): Promise<EmuAnswer> {
    const op = operations.get(name);
    if (!op || op.zone !== zone) return notFound(`projects/${project}/zones/${zone}/operations/${name}`);
    for (let k = 0; k < 40 && op.status !== 'DONE'; k++) await sleep(50);
    return { status: 200, body: opJson(op) };
  }

  const P = `^/compute/v1/projects/([^/]+)/zones/([^/]+)`;
  const routes = [
    {
      method: 'POST',
      pattern: new RegExp(`${P}/instances$`),
      handler: (r: EmuRequest) => insert(r, r.params[1] ?? ''),
    },
    {
      method: 'GET',
      pattern: new RegExp(`${P}/instances$`),
      handler: (r: EmuRequest) => list(r, r.params[1] ?? ''),
    },
    {
      method: 'GET',
      pattern: new RegExp(`${P}/instances/([^/]+)$`),
      handler: (r: EmuRequest) => {
        const i = instances.get(key(r.params[1] ?? '', r.params[2] ?? ''));
        return i ? { status: 200, body: instanceJson(i) } : notFound(r.path);
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`${P}/instances/([^/]+)$`),
      handler: (r: EmuRequest) => remove(r.params[1] ?? '', r.params[2] ?? ''),
    },
    {
      method: 'GET',
      pattern: new RegExp(`${P}/operations/([^/]+)$`),
      handler: (r: EmuRequest) => {
        const op = operations.get(r.params[2] ?? '');
        return op ? { status: 200, body: opJson(op) } : notFound(r.path);
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`${P}/operations/([^/]+)/wait$`),
      handler: (r: EmuRequest) => wait(r.params[1] ?? '', r.params[2] ?? ''),
    },
  ];

  function before(r: EmuRequest): EmuAnswer | null {
    const why = checkBearer(r.headers.authorization, sa, Math.floor(Date.now() / 1000));
    if (why)
      return googleError(
        401,
        'authError',
        `Request had invalid authentication credentials (${why}).`,
        'UNAUTHENTICATED',
      );
    const m = new RegExp(P).exec(r.path);
    if (m && m[1] !== project) return notFound(`projects/${m[1]}`);
    if (m && !ZONES.has(m[2] ?? '')) return notFound(`projects/${project}/zones/${m[2]}`);
    if (m && faults.zonesDown.has(m[2] ?? ''))
      return googleError(503, 'backendError', 'The service is currently unavailable.', 'UNAVAILABLE');
    const status = faults.next.shift();
    if (status === 429)
      return {
        ...googleError(429, 'rateLimitExceeded', 'Rate Limit Exceeded', 'RESOURCE_EXHAUSTED'),
        headers: { 'retry-after': '1' },
      };
    if (status !== undefined)
      return googleError(status, 'backendError', 'Internal error. Please try again.', 'INTERNAL');
    return null;
  }

  const server = await startEmuServer(routes, before, (r) => notFound(r.path));
  base = server.url;
  return {
    endpoint: `${server.url}/compute/v1/`,
    project,
    serviceAccount: sa,
    faults,
    server,
    instances: () => [...instances.values()],
    async close() {
      await settle();
      await server.close();
    },
  };
}
