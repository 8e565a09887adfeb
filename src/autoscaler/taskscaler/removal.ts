/** Removing machines: once asked, a removal is retried every `deletionRetryMs`, never forgotten. */
import type { Machine } from '../machines.js';
import { splitKey } from '../provider-group.js';
import type { ScalerCore } from './core.js';

/** Removes `m`; `code` is the reason label of flotilla_autoscaler_decisions_total. */
export function remove(c: ScalerCore, m: Machine, reason: string, code = 'retry'): void {
  const { metrics, runner } = c.o;
  if (m.state !== 'removing') {
    c.log.info({ machine: m.key, reason, code, useCount: m.useCount }, 'removing machine');
    metrics.decisions.inc({ runner, action: 'remove', reason: code });
    m.state = 'removing';
    m.lost = true;
    m.nextRemovalMs = 0;
    c.dirty = true;
  }
  if (m.removing || c.now() < m.nextRemovalMs) return;
  m.removing = true;
  const started = c.o.clock.monotonic();
  const provider = splitKey(m.key).provider;
  c.o.provider.decrease([m.key]).then(
    (done) => {
      m.removing = false;
      if (done.includes(m.key)) {
        const seconds = (c.o.clock.monotonic() - started) / 1000;
        metrics.removalDuration.observe({ runner, provider }, seconds);
        c.log.info({ machine: m.key, seconds }, 'machine removed');
        metrics.operations.inc({ runner, operation: 'remove', result: 'success' });
        c.machines.delete(m.key);
        c.dirty = true;
        c.kick();
      } else retryRemoval(c, m, new Error('the provider did not remove it'));
    },
    (err: unknown) => {
      m.removing = false;
      retryRemoval(c, m, err);
    },
  );
}

function retryRemoval(c: ScalerCore, m: Machine, err: unknown): void {
  m.removeAttempts++;
  m.nextRemovalMs = c.now() + c.o.timing.deletionRetryMs;
  c.o.metrics.operations.inc({ runner: c.o.runner, operation: 'remove', result: 'failure' });
  c.log.warn({ machine: m.key, err, attempts: m.removeAttempts }, 'machine removal failed; will retry');
}
