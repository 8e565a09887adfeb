/**
 * The work a cloud emulator goes on with after answering (test part only): machine boots and
 * teardowns, tracked so that closing the emulator waits for them instead of leaking machines.
 */
export interface Background {
  track(p: Promise<void>): void;
  /** Resolves once nothing tracked is running (also what tracked work started meanwhile). */
  settle(): Promise<void>;
}

export function background(): Background {
  const running = new Set<Promise<void>>();
  return {
    track(p) {
      running.add(p);
      void p.finally(() => running.delete(p));
    },
    async settle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
