/**
 * A simulated cloud behind the real provider port (`InstanceGroup`, src/autoscaler/providers):
 * machines boot in a log-normal time, some never become ready, API calls fail now and then, a
 * quota caps the machines that exist (deleting ones included), and mutating requests (one per
 * machine created or deleted, as most clouds' create/delete calls go) and list calls have
 * per-minute rate limits. Driven by the simulated clock; seeded, so a run is reproducible.
 */
import type { Clock } from '../../src/shared/clock.js';
import {
  ProviderError,
  type ConnectInfo,
  type InstanceGroup,
  type InstanceReport,
} from '../../src/autoscaler/providers/provider.js';

export interface SimProviderSettings {
  /** Boot time: log-normal around `medianSeconds` with shape `sigma`, clamped to [min, max]. */
  boot: { medianSeconds: number; sigma: number; minSeconds: number; maxSeconds: number };
  /** Share of new machines that never become ready (stuck creating). */
  neverReadyRatio: number;
  /** Share of create calls that fail outright with an API error (nothing created). */
  createFailureRatio: number;
  /** The most machines that may exist, deleting ones included (0 = no quota). */
  quota: number;
  /** Create/delete requests (one per machine) per rolling minute; 0 = unlimited. */
  mutationsPerMinute: number;
  /** List calls per rolling minute; 0 = unlimited. */
  listsPerMinute: number;
  /** Seconds a deleted machine stays `deleting` (and billed) before it is gone. */
  deleteSeconds: number;
  /** Windows (seconds since the start) in which every create call fails: out of capacity. */
  outages?: { fromSeconds: number; toSeconds: number }[];
}

export interface SimMachineView {
  id: string;
  phase: 'booting' | 'running' | 'deleting';
}

export interface SimProviderStats {
  created: number;
  neverReady: number;
  createRequests: number;
  deleteRequests: number;
  listCalls: number;
  rateLimited: number;
  quotaErrors: number;
  apiErrors: number;
  outageErrors: number;
}

export interface SimProvider extends InstanceGroup {
  /** Machines that exist (billed) now. */
  view(): SimMachineView[];
  readonly stats: SimProviderStats;
}

interface Machine {
  id: string;
  readyAtMs: number;
  deletedAtMs: number | null;
}

/** A rolling one-minute window of request times. */
function window(perMinute: number, now: () => number): (n: number) => number {
  const times: number[] = [];
  return (n) => {
    if (perMinute <= 0) return n;
    while (times.length > 0 && (times[0] ?? 0) <= now() - 60_000) times.shift();
    const allowed = Math.max(0, Math.min(n, perMinute - times.length));
    for (let i = 0; i < allowed; i++) times.push(now());
    return allowed;
  };
}

export function bootSeconds(s: SimProviderSettings['boot'], random: () => number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.min(s.maxSeconds, Math.max(s.minSeconds, s.medianSeconds * Math.exp(s.sigma * normal)));
}

export function createSimProvider(
  s: SimProviderSettings,
  clock: Clock,
  random: () => number,
  /** Prefix of machine ids, so several providers' machines never share one. */
  idPrefix = 'm',
): SimProvider {
  const machines = new Map<string, Machine>();
  const now = (): number => clock.now().getTime();
  const mutations = window(s.mutationsPerMinute, now);
  const lists = window(s.listsPerMinute, now);
  const stats: SimProviderStats = {
    created: 0,
    neverReady: 0,
    createRequests: 0,
    deleteRequests: 0,
    listCalls: 0,
    rateLimited: 0,
    quotaErrors: 0,
    apiErrors: 0,
    outageErrors: 0,
  };
  let seq = 0;

  function live(): Machine[] {
    for (const m of machines.values())
      if (m.deletedAtMs !== null && now() - m.deletedAtMs >= s.deleteSeconds * 1000) machines.delete(m.id);
    return [...machines.values()];
  }

  function phase(m: Machine): SimMachineView['phase'] {
    if (m.deletedAtMs !== null) return 'deleting';
    return now() < m.readyAtMs ? 'booting' : 'running';
  }

  function create(): string {
    const id = `${idPrefix}${++seq}`;
    const never = random() < s.neverReadyRatio;
    machines.set(id, {
      id,
      readyAtMs: never ? Infinity : now() + bootSeconds(s.boot, random) * 1000,
      deletedAtMs: null,
    });
    stats.created++;
    if (never) stats.neverReady++;
    return id;
  }

  return {
    stats,
    view: () => live().map((m) => ({ id: m.id, phase: phase(m) })),
    async init() {
      return { id: 'sim', maxSize: s.quota, version: '1' };
    },
    async update(report: (i: InstanceReport) => void) {
      stats.listCalls++;
      if (lists(1) === 0) {
        stats.rateLimited++;
        throw new ProviderError('rate_limit', 'simulated rate limit on list calls');
      }
      for (const m of live()) {
        const p = phase(m);
        report({ id: m.id, state: p === 'booting' ? 'creating' : p });
      }
    },
    async increase(count) {
      const at = clock.monotonic() / 1000;
      if (s.outages?.some((o) => at >= o.fromSeconds && at < o.toSeconds)) {
        stats.outageErrors++;
        throw new ProviderError('capacity', 'simulated outage: no capacity in this region');
      }
      if (random() < s.createFailureRatio) {
        stats.apiErrors++;
        throw new ProviderError('api', 'simulated API error on create');
      }
      const room = s.quota > 0 ? Math.max(0, s.quota - live().length) : count;
      const wanted = Math.min(count, room);
      const allowed = mutations(wanted);
      stats.createRequests += allowed;
      const ids = Array.from({ length: allowed }, create);
      if (allowed < wanted) {
        stats.rateLimited++;
        throw new ProviderError('rate_limit', `simulated rate limit: created ${allowed} of ${count}`, {
          created: ids,
        });
      }
      if (wanted < count) {
        stats.quotaErrors++;
        if (ids.length === 0) throw new ProviderError('capacity', 'simulated quota reached');
      }
      return ids;
    },
    async decrease(ids) {
      const targets = ids.filter((id) => machines.get(id)?.deletedAtMs === null);
      const allowed = mutations(targets.length);
      stats.deleteRequests += allowed;
      if (allowed < targets.length) stats.rateLimited++;
      for (const id of targets.slice(0, allowed)) {
        const m = machines.get(id);
        if (m) m.deletedAtMs = now();
      }
      // Already deleting or gone counts as done, as clouds answer for a repeated delete.
      return ids.filter((id) => !targets.slice(allowed).includes(id));
    },
    async connectInfo(id): Promise<ConnectInfo> {
      return {
        id,
        internalAddr: `${id}.sim`,
        externalAddr: `${id}.sim`,
        dockerHost: `tcp://${id}.sim:2376`,
      };
    },
    async shutdown() {},
  };
}
