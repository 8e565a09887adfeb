/**
 * Wakes a poller early: `wait` resolves after `ms`, or as soon as `notify` is called, whichever
 * comes first. A notice given while nobody waits makes the next `wait` return at once, so none is
 * lost between two polls. `flotilla run` notifies when its embedded runner ends a job, so its log
 * follower prints the job's last lines and the pipeline's end without waiting for its next poll.
 */
import type { Clock } from '../../shared/clock.js';

export class ChangeNotice {
  #pending = false;
  #wake: (() => void) | null = null;

  notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    if (wake) wake();
    else this.#pending = true;
  }

  /** Rejects with the signal's reason when `signal` is aborted first. */
  async wait(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return;
    }
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const woken = new Promise<void>((resolve) => (this.#wake = resolve));
    try {
      await Promise.race([clock.sleep(ms, stop.signal), woken]);
    } finally {
      this.#wake = null;
      signal?.removeEventListener('abort', onAbort);
      // Ends the sleep's timer when the notice came first.
      if (!stop.signal.aborted) stop.abort();
    }
  }
}
