/**
 * A job's log as a stream of bounded windows, so serving a 200 MB log costs the coordinator one
 * window of memory, not the whole log. The length is the log's size when the request started: a
 * running job's later output is for the next request (as GitLab serves it).
 */
import { Readable } from 'node:stream';

import type { TraceStore } from '../store/store.js';

const WINDOW_BYTES = 1024 * 1024;

export function traceStream(
  store: TraceStore,
  jobId: number,
  size: number,
  windowBytes = WINDOW_BYTES,
): Readable {
  let offset = 0;
  return new Readable({
    async read() {
      try {
        if (offset >= size) {
          this.push(null);
          return;
        }
        const chunk = await store.readTrace(jobId, offset, Math.min(windowBytes, size - offset));
        if (chunk.length === 0) {
          this.push(null);
          return;
        }
        offset += chunk.length;
        this.push(chunk);
      } catch (err) {
        this.destroy(err instanceof Error ? err : new Error(String(err)));
      }
    },
  });
}
