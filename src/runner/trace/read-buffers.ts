/**
 * Read buffers of trace PATCH bodies (TRACE_PATCH_LIMIT_MAX bytes each), kept for the next jobs
 * once a job's PATCHes are all answered: a job does not leave its 4 MiB buffers to the garbage
 * collector while the next one allocates others. As many as the PATCHes that were in flight at
 * once, at most; only the pages a PATCH body used are resident.
 */
import { TRACE_PATCH_LIMIT_MAX } from '../../api/runner-api.js';

const spare: Buffer[] = [];

export function takeReadBuffer(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(TRACE_PATCH_LIMIT_MAX);
}

/** Keeps the buffers for later senders (any other size is left to the garbage collector). */
export function giveBackReadBuffers(buffers: readonly (Buffer | undefined)[]): void {
  for (const buffer of buffers) if (buffer?.length === TRACE_PATCH_LIMIT_MAX) spare.push(buffer);
}
