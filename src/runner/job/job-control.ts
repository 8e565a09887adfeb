/**
 * Interrupts of one running job and the abort signals of its stages.
 * - `cancel` (coordinator said canceling) and `timeout` stop the current *main* stage; after_script
 *   and the upload stages still run.
 * - `abort` (coordinator dropped the job) and `shutdown` (forceful stop of the manager) stop every
 *   stage, and nothing else runs.
 */

export type InterruptKind = 'cancel' | 'timeout' | 'abort' | 'shutdown';

export class JobInterrupt extends Error {
  readonly kind: InterruptKind;
  constructor(kind: InterruptKind) {
    super(`job interrupted: ${kind}`);
    this.name = 'JobInterrupt';
    this.kind = kind;
  }
}

export type StageKind = 'main' | 'after' | 'final';

export interface JobControl {
  readonly interrupt: InterruptKind | null;
  readonly hard: boolean;
  /** Records an interrupt and aborts the current stage when it should stop. */
  raise(kind: InterruptKind): void;
  /** A signal for the next stage of `kind`. */
  beginStage(kind: StageKind): AbortSignal;
  /** Aborts the current stage for another reason (e.g. after_script's own timeout). */
  abortStage(reason: Error): void;
}

function isHard(kind: InterruptKind | null): boolean {
  return kind === 'abort' || kind === 'shutdown';
}

export function createJobControl(): JobControl {
  let interrupt: InterruptKind | null = null;
  let current: { controller: AbortController; kind: StageKind } | null = null;

  function stops(kind: StageKind, reason: InterruptKind): boolean {
    return isHard(reason) || kind === 'main';
  }

  return {
    get interrupt() {
      return interrupt;
    },
    get hard() {
      return isHard(interrupt);
    },
    raise(kind) {
      if (isHard(interrupt) || (interrupt !== null && !isHard(kind))) return;
      interrupt = kind;
      if (current && stops(current.kind, kind)) current.controller.abort(new JobInterrupt(kind));
    },
    beginStage(kind) {
      const controller = new AbortController();
      current = { controller, kind };
      if (interrupt && stops(kind, interrupt)) controller.abort(new JobInterrupt(interrupt));
      return controller.signal;
    },
    abortStage(reason) {
      current?.controller.abort(reason);
    },
  };
}
