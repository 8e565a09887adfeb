/**
 * Optional Consul registration of the same targets the HTTP service discovery serves, through the
 * Consul agent's HTTP API:
 * - `PUT /v1/agent/service/register` for every target (`host:port`), with a TTL check
 *   (`Check.TTL` = 3 × interval, `DeregisterCriticalServiceAfter` = 10 × interval, at least 1 minute),
 *   repeated every `interval` (registration is idempotent in Consul) and followed by
 *   `PUT /v1/agent/check/pass/service:<id>` to keep the check passing;
 * - `PUT /v1/agent/service/deregister/<id>` for targets that went away, and for all on `stop()`
 *   (an unknown service, 404, is already gone).
 * Services are named `service_name`; the component (`coordinator`, `runner-manager`, `machine`) is
 * a tag, and the SD labels (without `__meta_flotilla_`) are service meta, so Prometheus'
 * `consul_sd_configs` sees `__meta_consul_service_metadata_<label>`. The ACL token goes in
 * `X-Consul-Token`. A Consul that does not answer is logged and retried next interval; it never
 * stops the process.
 */
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { splitHostPort, type TargetGroup } from './http-sd.js';

export interface ConsulSettings {
  /** The agent's HTTP API, e.g. `http://127.0.0.1:8500`. */
  address: string;
  token?: string | undefined;
  /** Consul service name of every target. */
  serviceName: string;
  /** Seconds between registrations. */
  intervalSeconds: number;
}

export interface ConsulService {
  ID: string;
  Name: string;
  Address: string;
  Port: number;
  Tags: string[];
  Meta: Record<string, string>;
  Check: { CheckID: string; TTL: string; DeregisterCriticalServiceAfter: string };
}

export interface ConsulRegistrarOptions {
  settings: ConsulSettings;
  targets(): Promise<readonly TargetGroup[]>;
  clock: Clock;
  logger: Logger;
  fetch?: typeof fetch;
}

export interface ConsulRegistrar {
  /** One registration pass now (also what the timer runs). */
  sync(): Promise<void>;
  /** Starts the periodic passes (the first one at once). */
  start(): void;
  /** Stops the timer and deregisters every service this registrar registered. */
  stop(): Promise<void>;
}

const META_PREFIX = '__meta_flotilla_';
const META_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** A Consul service ID for a target: `<name>-<host>-<port>` with unsafe characters replaced. PURE. */
export function serviceId(serviceName: string, target: string): string {
  return `${serviceName}-${target}`.replace(/[^A-Za-z0-9_.-]/g, '-');
}

/** The registration body of one target of a group; null when the target has no numeric port. PURE. */
export function consulService(
  settings: Pick<ConsulSettings, 'serviceName' | 'intervalSeconds'>,
  group: TargetGroup,
  target: string,
): ConsulService | null {
  const { host, port } = splitHostPort(target);
  if (!/^\d+$/.test(port) || host === '') return null;
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(group.labels)) {
    const key = name.startsWith(META_PREFIX) ? name.slice(META_PREFIX.length) : name;
    if (META_KEY.test(key) && !key.startsWith('__')) meta[key] = value.slice(0, 512);
  }
  const id = serviceId(settings.serviceName, target);
  const ttl = Math.max(1, Math.round(settings.intervalSeconds * 3));
  const deregisterAfter = Math.max(60, Math.round(settings.intervalSeconds * 10));
  return {
    ID: id,
    Name: settings.serviceName,
    Address: host,
    Port: Number(port),
    Tags: meta['component'] ? [meta['component']] : [],
    Meta: meta,
    Check: {
      CheckID: `service:${id}`,
      TTL: `${ttl}s`,
      DeregisterCriticalServiceAfter: `${deregisterAfter}s`,
    },
  };
}

export function createConsulRegistrar(options: ConsulRegistrarOptions): ConsulRegistrar {
  const { settings, logger } = options;
  const doFetch = options.fetch ?? fetch;
  const base = settings.address.replace(/\/+$/, '');
  const registered = new Set<string>();
  const stopper = new AbortController();
  let running: Promise<void> | null = null;
  let loop: Promise<void> | null = null;

  async function put(path: string, body?: unknown, alsoOk?: number): Promise<void> {
    const headers: Record<string, string> = {};
    if (settings.token) headers['x-consul-token'] = settings.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await doFetch(`${base}${path}`, {
      method: 'PUT',
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok && res.status !== alsoOk)
      throw new Error(`consul PUT ${path}: HTTP ${res.status} ${(await res.text()).trim()}`);
  }

  async function pass(): Promise<void> {
    const services = (await options.targets()).flatMap((g) =>
      g.targets.flatMap((t) => consulService(settings, g, t) ?? []),
    );
    const wanted = new Set(services.map((s) => s.ID));
    for (const service of services) {
      await put('/v1/agent/service/register', service);
      registered.add(service.ID);
      await put(`/v1/agent/check/pass/${encodeURIComponent(service.Check.CheckID)}`);
    }
    for (const id of [...registered].filter((x) => !wanted.has(x))) {
      await put(`/v1/agent/service/deregister/${encodeURIComponent(id)}`, undefined, 404);
      registered.delete(id);
    }
  }

  function sync(): Promise<void> {
    running ??= pass()
      .catch((err: unknown) =>
        logger.warn({ err: errorMessage(err), consul: base }, 'consul registration failed; retrying'),
      )
      .finally(() => (running = null));
    return running;
  }

  async function periodic(): Promise<void> {
    while (!stopper.signal.aborted) {
      await sync();
      try {
        await options.clock.sleep(settings.intervalSeconds * 1000, stopper.signal);
      } catch {
        return;
      }
    }
  }

  return {
    sync,
    start() {
      loop ??= periodic();
    },
    async stop() {
      stopper.abort();
      await loop;
      await running;
      for (const id of [...registered]) {
        await put(`/v1/agent/service/deregister/${encodeURIComponent(id)}`, undefined, 404).catch(
          (err: unknown) =>
            logger.warn({ err: errorMessage(err), service: id }, 'consul deregistration failed'),
        );
        registered.delete(id);
      }
    },
  };
}
