/**
 * Ctrl-C (SIGINT) and SIGTERM during `flotilla run`: the first one ends the run the way a pipeline
 * failure does (the embedded runner aborts its running jobs, whose process groups are killed, the
 * coordinator closes and the run's data is removed), then the process exits with 130 or 143 as a
 * shell reports a death by that signal; a second one exits at once. Without this, Node's default
 * action ended the process alone and the jobs' processes (detached, in groups of their own) ran on.
 */
import type { SignalSource } from '../signals.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type StopSignal = (typeof SIGNALS)[number];

export interface Interruption {
  /** Resolves with the first stop signal. */
  readonly signal: Promise<StopSignal>;
  /** The exit code for a death by `signal` (128 + its number). */
  exitCode(signal: StopSignal): number;
  dispose(): void;
}

export function watchInterrupts(
  source: SignalSource = process,
  exit: (code: number) => void = (code) => process.exit(code),
): Interruption {
  let received: StopSignal | null = null;
  let resolve: (signal: StopSignal) => void = () => undefined;
  const signal = new Promise<StopSignal>((r) => (resolve = r));
  const exitCode = (s: StopSignal): number => (s === 'SIGINT' ? 130 : 143);
  const handlers = new Map<StopSignal, () => void>();
  for (const name of SIGNALS) {
    handlers.set(name, () => {
      if (received !== null) return exit(exitCode(received));
      received = name;
      resolve(name);
    });
  }
  for (const [name, handler] of handlers) source.on(name, handler);
  return {
    signal,
    exitCode,
    dispose() {
      for (const [name, handler] of handlers) source.off(name, handler);
    },
  };
}
