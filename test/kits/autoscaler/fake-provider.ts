/**
 * The `fake` provider: a simulated cloud driven by the injected clock, with a boot-time
 * distribution, a quota, an API rate limit and boot failures. `failNext(kind)` and `kill(id)` let
 * tests inject faults. No I/O: the benchmark replays a day of jobs through it in seconds.
 */
import type { Clock } from '../../../src/shared/clock.js';
import { systemClock } from '../../../src/shared/clock.js';
import {
  ProviderError,
  type InstanceGroup,
  type InstanceReport,
  type ProviderErrorKind,
  type ProviderFactory,
} from '../../../src/autoscaler/providers/provider.js';
import { fakeProviderConfigSchema, type FakeProviderConfig } from './fake-provider-config.js';

interface FakeMachine {
  id: string;
  createdAtMs: number;
  readyAtMs: number;
  deletedAtMs: number | null;
  broken: boolean;
}

export interface FakeProvider extends InstanceGroup {
  /** The next `count` calls of `operation` fail with `kind`. */
  failNext(operation: 'increase' | 'decrease' | 'update', kind: ProviderErrorKind, count?: number): void;
  /** The machine dies (reported `timeout` from now on). */
  kill(id: string): void;
  /** Changes the quota (0 = no limit), e.g. to make a primary fail and recover. */
  setMaxSize(n: number): void;
  /** Machines that exist (not yet fully deleted). */
  existing(): string[];
  readonly calls: Record<string, number>;
}

/** What a simulated machine is at `nowMs`. */
function machineReport(m: FakeMachine, nowMs: number): InstanceReport {
  const base = { id: m.id, createdAt: new Date(m.createdAtMs) };
  if (m.deletedAtMs !== null) return { ...base, state: 'deleting' };
  if (nowMs < m.readyAtMs) return { ...base, state: 'creating' };
  return { ...base, state: m.broken ? 'timeout' : 'running' };
}

/** The simulated API's front door: counts calls, throws injected faults, then the rate limit. */
function apiGate(config: FakeProviderConfig, now: () => number) {
  const faults: { operation: string; kind: ProviderErrorKind }[] = [];
  const calls: Record<string, number> = {};
  const window: number[] = [];

  function call(operation: string): void {
    calls[operation] = (calls[operation] ?? 0) + 1;
    const i = faults.findIndex((f) => f.operation === operation);
    if (i >= 0) {
      const [f] = faults.splice(i, 1);
      throw new ProviderError(f?.kind ?? 'api', `simulated ${f?.kind} on ${operation}`);
    }
    if (config.requests_per_minute > 0) {
      while (window.length > 0 && (window[0] ?? 0) <= now() - 60_000) window.shift();
      if (window.length >= config.requests_per_minute)
        throw new ProviderError('rate_limit', 'simulated rate limit');
      window.push(now());
    }
  }

  const failNext: FakeProvider['failNext'] = (operation, kind, count = 1) => {
    for (let i = 0; i < count; i++) faults.push({ operation, kind });
  };
  return { call, calls, failNext };
}

export function createFakeProvider(
  config: FakeProviderConfig,
  options: { random?: () => number; clock?: Clock } = {},
): FakeProvider {
  const random = options.random ?? Math.random;
  let clock: Clock = options.clock ?? systemClock;
  const machines = new Map<string, FakeMachine>();
  let seq = 0;
  let maxSize = config.max_size;
  const now = (): number => clock.now().getTime();
  const { call, calls, failNext } = apiGate(config, now);

  function live(): FakeMachine[] {
    for (const m of machines.values()) {
      if (m.deletedAtMs !== null && now() - m.deletedAtMs >= config.delete_seconds * 1000)
        machines.delete(m.id);
    }
    return [...machines.values()];
  }

  return {
    calls,
    async init(deps) {
      if (!options.clock) clock = deps.clock;
      return { id: 'fake', maxSize, version: '1' };
    },
    async update(fn) {
      call('update');
      for (const m of live()) fn(machineReport(m, now()));
    },
    async increase(count) {
      call('increase');
      const room = maxSize > 0 ? Math.max(0, maxSize - live().length) : count;
      const n = Math.min(count, room);
      if (n === 0) throw new ProviderError('capacity', 'simulated quota reached');
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = `fake-${++seq}`;
        const boot = config.boot_seconds_min + random() * (config.boot_seconds_max - config.boot_seconds_min);
        machines.set(id, {
          id,
          createdAtMs: now(),
          readyAtMs: now() + boot * 1000,
          deletedAtMs: null,
          broken: random() < config.fail_boot_ratio,
        });
        ids.push(id);
      }
      return ids;
    },
    async decrease(ids) {
      call('decrease');
      const done: string[] = [];
      for (const id of ids) {
        const m = machines.get(id);
        if (m && m.deletedAtMs === null) m.deletedAtMs = now();
        done.push(id);
      }
      return done;
    },
    async connectInfo(id) {
      const m = machines.get(id);
      if (!m || m.deletedAtMs !== null) throw new Error(`no machine ${id}`);
      return { id, internalAddr: id, externalAddr: id, dockerHost: `${config.docker_host_prefix}${id}:2375` };
    },
    async heartbeat(id) {
      const m = machines.get(id);
      if (!m || m.broken || m.deletedAtMs !== null) throw new Error(`machine ${id} is dead`);
    },
    async shutdown() {},
    failNext,
    kill(id) {
      const m = machines.get(id);
      if (m) m.broken = true;
    },
    setMaxSize(n) {
      maxSize = n;
    },
    existing: () => live().map((m) => m.id),
  };
}

export const fakeProviderFactory = {
  name: 'fake',
  parseConfig: (raw) => fakeProviderConfigSchema.parse(raw ?? {}),
  create: (config) => createFakeProvider(config),
} satisfies ProviderFactory<FakeProviderConfig>;
