/**
 * The taskscaler's shared state (`ScalerCore`): the machines, the waiting jobs and the loop's
 * bookkeeping, with the helpers every concern uses (clock, wake-up, persistence). The concerns are
 * functions of this state: `removal.ts`, `slots.ts`, `watch.ts`, `scaling.ts`; `../taskscaler.ts`
 * wires them.
 */
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { PolicyConfig, PredictiveConfig } from '../autoscaler-config.js';
import type { Lease } from '../lease.js';
import { fleetStateOf, type Machine } from '../machines.js';
import type { AutoscalerMetrics } from '../metrics.js';
import type { Limits } from '../policy.js';
import { createPlanner, type AnnouncedJobs, type Planner } from '../predictive.js';
import type { ConnectInfo, InstanceGroup } from '../providers/provider.js';
import type { FleetState, MachineRecord } from '../state-store.js';

export interface Timing {
  readyTimeoutMs: number;
  acquireTimeoutMs: number;
  updateIntervalMs: number;
  updateExpectingMs: number;
  deletionRetryMs: number;
}

export interface TaskscalerOptions {
  runner: string;
  provider: InstanceGroup;
  limits: Limits;
  policies: () => readonly PolicyConfig[];
  timing: Timing;
  /** Throws when a new machine is not ready for jobs. */
  readyCheck: (info: ConnectInfo) => Promise<void>;
  clock: Clock;
  logger: Logger;
  metrics: AutoscalerMetrics;
  /** `[runners.autoscaler.predictive]`; absent or not enabled = gitlab-runner's idle policy only. */
  predictive?: PredictiveConfig;
  /**
   * The jobs the coordinator announced last (`announced_jobs`); absent, or undefined, = none
   * announced (a GitLab coordinator): the policy behaves as without the setting.
   */
  announced?: () => AnnouncedJobs | undefined;
  /** Persists the fleet (called after changes); absent = not persisted. */
  persist?: (state: FleetState) => Promise<void>;
}

export interface Waiter {
  job: string;
  deadlineMs: number;
  resolve(lease: Lease): void;
  reject(err: Error): void;
  done: boolean;
}

export interface ScalerCore {
  readonly o: TaskscalerOptions;
  readonly log: Logger;
  readonly machines: Map<string, Machine>;
  readonly waiters: Waiter[];
  zeroIds: MachineRecord[];
  /** Why the last new machine was removed before it became ready (for a job that times out waiting). */
  lastReadyFailure: string | null;
  pending: number;
  /** When the last job asked for a slot (booting machines are not cancelled within a boot of it). */
  lastArrivalMs: number;
  nextUpdateMs: number;
  dirty: boolean;
  wake: (() => void) | null;
  readonly planner: Planner | null;
  now(): number;
  /** Wakes the loop for an early pass. */
  kick(): void;
  fleetState(): FleetState;
  persist(): Promise<void>;
}

export function createCore(o: TaskscalerOptions): ScalerCore {
  const c: ScalerCore = {
    o,
    log: o.logger.child({ runner: o.runner }),
    machines: new Map(),
    waiters: [],
    zeroIds: [],
    lastReadyFailure: null,
    pending: 0,
    lastArrivalMs: -Infinity,
    nextUpdateMs: 0,
    dirty: false,
    wake: null,
    planner: o.predictive?.enabled ? createPlanner(o.predictive) : null,
    now: () => o.clock.now().getTime(),
    kick: () => c.wake?.(),
    fleetState: () =>
      fleetStateOf(o.runner, c.machines.values(), c.zeroIds, c.pending, o.clock.now().toISOString()),
    async persist() {
      c.dirty = false;
      await o
        .persist?.(c.fleetState())
        .catch((err: unknown) => c.log.error({ err }, 'writing the machine state failed'));
    },
  };
  return c;
}
