/**
 * The autoscaled machines of every known runner manager, for the coordinator's HTTP SD list, so
 * one Prometheus with one discovery URL finds the whole fleet: coordinator, managers and machines.
 *
 * The coordinator asks each manager's own `/-/discovery/targets` (the address the manager reported
 * while polling) and keeps only its `machine` groups. Each answer is cached for `cacheMs`; a
 * manager that does not answer within `timeoutMs` keeps its last answer for `staleMs` (a brief
 * hiccup does not drop its machines from monitoring) and then lists none.
 */
import type { TargetGroup } from './http-sd.js';

export interface ManagerMachinesOptions {
  now: () => number;
  fetch?: typeof fetch;
  timeoutMs?: number;
  cacheMs?: number;
  staleMs?: number;
  /** Largest answer read from one manager. */
  maxBytes?: number;
}

export interface ManagerMachines {
  /** The machine groups of the managers at `addresses` (`host:port`). */
  groups(addresses: readonly string[]): Promise<TargetGroup[]>;
}

interface Cached {
  fetchedAtMs: number;
  okAtMs: number;
  groups: TargetGroup[];
}

function isMachineGroup(value: unknown): value is TargetGroup {
  if (typeof value !== 'object' || value === null) return false;
  const g = value as { targets?: unknown; labels?: unknown };
  if (!Array.isArray(g.targets) || !g.targets.every((t) => typeof t === 'string')) return false;
  if (typeof g.labels !== 'object' || g.labels === null) return false;
  const labels = g.labels as Record<string, unknown>;
  if (!Object.values(labels).every((v) => typeof v === 'string')) return false;
  return labels['__meta_flotilla_component'] === 'machine';
}

export function createManagerMachines(options: ManagerMachinesOptions): ManagerMachines {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 2000;
  const cacheMs = options.cacheMs ?? 10_000;
  const staleMs = options.staleMs ?? 5 * 60_000;
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  const cache = new Map<string, Cached>();

  async function ask(address: string): Promise<TargetGroup[]> {
    const res = await doFetch(`http://${address}/-/discovery/targets`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > maxBytes) throw new Error('answer too large');
    const body: unknown = JSON.parse(text);
    return Array.isArray(body) ? body.filter(isMachineGroup) : [];
  }

  async function refresh(address: string, nowMs: number): Promise<TargetGroup[]> {
    const previous = cache.get(address);
    if (previous && nowMs - previous.fetchedAtMs < cacheMs) return previous.groups;
    try {
      const groups = await ask(address);
      cache.set(address, { fetchedAtMs: nowMs, okAtMs: nowMs, groups });
      return groups;
    } catch {
      const kept = previous && nowMs - previous.okAtMs < staleMs ? previous.groups : [];
      cache.set(address, { fetchedAtMs: nowMs, okAtMs: previous?.okAtMs ?? 0, groups: kept });
      return kept;
    }
  }

  return {
    async groups(addresses) {
      const nowMs = options.now();
      for (const address of cache.keys()) if (!addresses.includes(address)) cache.delete(address);
      const all = await Promise.all(addresses.map((a) => refresh(a, nowMs)));
      return all.flat();
    },
  };
}
