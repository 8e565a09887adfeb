/**
 * The provider's view of the machines: the listing (`refresh`: lost and timed-out machines go, a
 * running new one gets its ready check) and the deadlines (`expire`: jobs past
 * instance_acquire_timeout, machines past instance_ready_timeout, removals to retry).
 */
import { errorMessage } from '../../shared/errors.js';
import type { Machine } from '../machines.js';
import { PartialUpdateError, splitKey } from '../provider-group.js';
import type { InstanceState } from '../providers/provider.js';
import type { ScalerCore } from './core.js';
import { remove } from './removal.js';
import { dispatch } from './slots.js';

function becameReady(c: ScalerCore, m: Machine): void {
  m.checking = false;
  if (m.state !== 'creating') return;
  m.state = 'ready';
  m.readyAtMs = c.now();
  c.lastReadyFailure = null;
  m.idleSinceMs = c.now();
  c.dirty = true;
  c.o.metrics.creationDuration.observe(
    { runner: c.o.runner, provider: splitKey(m.key).provider },
    (c.now() - m.createdAtMs) / 1000,
  );
  c.log.info({ machine: m.key, seconds: (c.now() - m.createdAtMs) / 1000 }, 'machine ready');
  c.planner?.demand.boot(splitKey(m.key).provider, c.now() - m.createdAtMs);
  dispatch(c);
  c.kick();
}

function readyCheck(c: ScalerCore, m: Machine): void {
  m.checking = true;
  c.o.provider
    .connectInfo(m.key)
    .then((info) => c.o.readyCheck(info))
    .then(
      () => becameReady(c, m),
      (err: unknown) => {
        m.checking = false;
        c.o.metrics.operations.inc({ runner: c.o.runner, operation: 'ready', result: 'failure' });
        c.lastReadyFailure = `machine ${m.key} failed its ready check: ${errorMessage(err)}`;
        c.log.warn({ machine: m.key, err }, 'machine failed its ready check');
        remove(c, m, 'ready check failed', 'ready_failed');
      },
    );
}

/** Lists the provider's machines and applies what it reports to ours. */
export async function refresh(c: ScalerCore): Promise<void> {
  const { metrics, runner, timing } = c.o;
  const seen = new Map<string, InstanceState>();
  let unlisted: string[] = [];
  try {
    await c.o.provider.update((r) => seen.set(r.id, r.state));
  } catch (err) {
    if (!(err instanceof PartialUpdateError)) {
      c.log.warn({ err }, 'listing machines failed');
      c.nextUpdateMs = c.now() + timing.updateExpectingMs;
      return;
    }
    unlisted = err.providers;
  }
  for (const m of c.machines.values()) {
    if (m.state === 'removing' || unlisted.includes(splitKey(m.key).provider)) continue;
    const st = seen.get(m.key);
    const young = m.state === 'creating' && c.now() - m.createdAtMs < timing.readyTimeoutMs;
    if ((st === undefined && !young) || st === 'deleted') {
      c.log.warn({ machine: m.key, busy: m.busy }, 'machine unexpectedly removed');
      metrics.operations.inc({ runner, operation: 'lost', result: 'success' });
      m.lost = true;
      c.machines.delete(m.key);
      c.dirty = true;
    } else if (st === 'timeout' || st === 'deleting') {
      metrics.operations.inc({ runner, operation: 'lost', result: 'success' });
      remove(c, m, `provider reports it ${st}`, 'lost');
    } else if (st === 'running' && m.state === 'creating' && !m.checking) readyCheck(c, m);
  }
  const expecting = c.waiters.length > 0 || [...c.machines.values()].some((m) => m.state !== 'ready');
  c.nextUpdateMs = c.now() + (expecting ? timing.updateExpectingMs : timing.updateIntervalMs);
}

/** Fails jobs and machines past their deadlines; retries due removals. */
export function expire(c: ScalerCore): void {
  const { timing } = c.o;
  const now = c.now;
  for (const w of c.waiters.filter((x) => now() >= x.deadlineMs)) {
    w.done = true;
    w.reject(
      new Error(
        `no machine slot within ${timing.acquireTimeoutMs / 1000}s (instance_acquire_timeout)` +
          (c.lastReadyFailure ? `; the last new machine was removed: ${c.lastReadyFailure}` : ''),
      ),
    );
  }
  for (let i = c.waiters.length - 1; i >= 0; i--) if (c.waiters[i]?.done) c.waiters.splice(i, 1);
  for (const m of c.machines.values()) {
    if (m.state === 'creating' && now() - m.createdAtMs > timing.readyTimeoutMs) {
      c.o.metrics.operations.inc({ runner: c.o.runner, operation: 'ready', result: 'failure' });
      c.lastReadyFailure = `machine ${m.key} was not ready within ${timing.readyTimeoutMs / 1000}s (instance_ready_timeout)`;
      c.log.warn({ machine: m.key }, 'machine not ready within instance_ready_timeout');
      remove(c, m, 'not ready within instance_ready_timeout', 'ready_failed');
    }
    if (m.state === 'removing') remove(c, m, 'retry');
  }
}
