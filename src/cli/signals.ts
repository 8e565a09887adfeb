/**
 * Process signals for `flotilla runner run`, as gitlab-runner handles them:
 * - SIGQUIT: graceful stop (no new jobs, in-flight long polls aborted, running jobs finish);
 * - SIGTERM / SIGINT: forceful stop (running jobs aborted and reported failed, bounded by
 *   shutdown_timeout); during a graceful stop they escalate it to forceful;
 * - any further stop signal exits at once (exit code 1);
 * - SIGHUP: reload config.toml.
 */
import type { Logger } from '../shared/logger.js';

export interface SignalTarget {
  stop(options: { graceful: boolean }): Promise<void>;
  reload(): Promise<boolean>;
}

/** The part of `process` used here, so tests can pass an EventEmitter. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: () => void): unknown;
  off(event: NodeJS.Signals, listener: () => void): unknown;
}

export interface SignalHandlerOptions {
  logger: Logger;
  source?: SignalSource;
  exit?: (code: number) => void;
}

export interface SignalHandlers {
  /** Resolves when a stop that a signal started has completed. */
  readonly stopped: Promise<void>;
  dispose(): void;
}

const STOP_SIGNALS = ['SIGQUIT', 'SIGTERM', 'SIGINT'] as const;

export function installSignalHandlers(target: SignalTarget, options: SignalHandlerOptions): SignalHandlers {
  const { logger } = options;
  const source: SignalSource = options.source ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let mode: 'running' | 'graceful' | 'forceful' = 'running';
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  function onStop(signal: NodeJS.Signals): void {
    const graceful = signal === 'SIGQUIT';
    if (mode === 'forceful' || (mode === 'graceful' && graceful)) {
      logger.warn({ signal }, 'second stop signal: exiting now');
      exit(1);
      return;
    }
    mode = graceful ? 'graceful' : 'forceful';
    logger.info(
      { signal, graceful },
      graceful ? 'stopping gracefully: waiting for running jobs' : 'stopping: aborting running jobs',
    );
    target.stop({ graceful }).then(resolveStopped, (err: unknown) => {
      logger.error({ err: String(err) }, 'stop failed');
      resolveStopped();
    });
  }

  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of STOP_SIGNALS) handlers.set(signal, () => onStop(signal));
  handlers.set('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading config');
    void target.reload();
  });
  for (const [signal, handler] of handlers) source.on(signal, handler);

  return {
    stopped,
    dispose() {
      for (const [signal, handler] of handlers) source.off(signal, handler);
    },
  };
}
