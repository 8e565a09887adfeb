/**
 * The heap a process really keeps: a full garbage collection forced first (V8's `gc`, exposed at
 * run time so the bench needs no `--expose-gc` on its command line), then `heapUsed`. Growth of
 * this figure over a run is retained memory (a leak, or a cache filling up), not GC timing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

function gcFunction(): () => void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

/** MiB of heap used right after a forced full collection (two passes: weak callbacks, finalizers). */
export function retainedHeapMiB(): number {
  const gc = gcFunction();
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}
