/** The taskscaler's machine records and the pure views of them (policy snapshot, metric states, state file). */
import { MACHINE_STATES, type AutoscalerMetrics, type MachineState } from './metrics.js';
import { freeSlots, type FleetSnapshot, type IdleCandidate, type Limits } from './policy.js';
import type { FleetState, MachineRecord } from './state-store.js';

export interface Machine {
  key: string;
  state: 'creating' | 'ready' | 'removing';
  createdAtMs: number;
  readyAtMs: number | null;
  idleSinceMs: number;
  useCount: number;
  /** Slots held by leases. */
  busy: number;
  /** Leases whose job has started running (past prepare). */
  started: number;
  checking: boolean;
  removing: boolean;
  nextRemovalMs: number;
  removeAttempts: number;
  /** Bumped when the machine is lost, so its leases see it. */
  lost: boolean;
  /** The jobs holding its slots (as given to `acquire`). */
  jobs: string[];
}

export function newMachine(key: string, nowMs: number): Machine {
  return {
    key,
    state: 'creating',
    createdAtMs: nowMs,
    readyAtMs: null,
    idleSinceMs: nowMs,
    useCount: 0,
    busy: 0,
    started: 0,
    checking: false,
    removing: false,
    nextRemovalMs: 0,
    removeAttempts: 0,
    lost: false,
    jobs: [],
  };
}

export function machineFree(m: Machine, limits: Limits): number {
  return m.state === 'ready' && !m.lost ? freeSlots(limits, m.busy, m.useCount) : 0;
}

export function usedUp(m: Machine, limits: Limits): boolean {
  return limits.maxUseCount > 0 && m.useCount >= limits.maxUseCount;
}

export function snapshot(
  machines: Iterable<Machine>,
  limits: Limits,
  waiting: number,
  pending: number,
): FleetSnapshot {
  const s: FleetSnapshot = { inUse: 0, waiting, free: 0, creating: pending, total: pending };
  for (const m of machines) {
    s.total++;
    if (m.state === 'creating') s.creating++;
    s.inUse += m.busy;
    s.free += machineFree(m, limits);
  }
  return s;
}

export function idleCandidates(machines: Iterable<Machine>, limits: Limits): IdleCandidate[] {
  return [...machines]
    .filter((m) => m.state === 'ready')
    .map((m) => ({
      key: m.key,
      idleSinceMs: m.idleSinceMs,
      createdAtMs: m.createdAtMs,
      free: machineFree(m, limits),
      busy: m.busy,
      usedUp: usedUp(m, limits),
    }));
}

export function metricState(m: Machine): MachineState {
  if (m.state !== 'ready') return m.state;
  if (m.started > 0) return 'used';
  return m.busy > 0 ? 'acquired' : 'idle';
}

export function toRecord(m: Machine): MachineRecord {
  return {
    key: m.key,
    state: m.state,
    createdAt: new Date(m.createdAtMs).toISOString(),
    ...(m.readyAtMs !== null ? { readyAt: new Date(m.readyAtMs).toISOString() } : {}),
    useCount: m.useCount,
    busy: m.busy,
  };
}

/** A machine of the state file, adopted: checked again before use. */
export function fromRecord(r: MachineRecord, nowMs: number): Machine {
  const m = newMachine(r.key, Date.parse(r.createdAt) || nowMs);
  m.useCount = r.useCount;
  m.idleSinceMs = nowMs;
  if (r.state === 'removing') m.state = 'removing';
  return m;
}

/** The state file's content: machines, unanswered creations (`pending` placeholders), zero ids. */
export function fleetStateOf(
  runner: string,
  machines: Iterable<Machine>,
  zeroIds: readonly MachineRecord[],
  pending: number,
  nowIso: string,
): FleetState {
  const placeholders = Array.from({ length: pending }, () => ({
    key: '',
    state: 'creating' as const,
    createdAt: nowIso,
    useCount: 0,
    busy: 0,
  }));
  return { version: 1, runner, machines: [...[...machines].map(toRecord), ...zeroIds, ...placeholders] };
}

/** Sets the fleet gauges: machines by state, jobs waiting, max_instances. */
export function publishFleet(
  metrics: AutoscalerMetrics,
  runner: string,
  machines: Iterable<Machine>,
  waiting: number,
  maxInstances: number,
): void {
  const counts = Object.fromEntries(MACHINE_STATES.map((s) => [s, 0])) as Record<string, number>;
  for (const m of machines) counts[metricState(m)] = (counts[metricState(m)] ?? 0) + 1;
  for (const s of MACHINE_STATES) metrics.machines.set({ runner, state: s }, counts[s] ?? 0);
  metrics.waiting.set({ runner }, waiting);
  metrics.maxInstances.set({ runner }, maxInstances);
}
