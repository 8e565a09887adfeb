/** Job logs (traces): the traces aggregate of the store port. */

/** A trace chunk: one buffer, or the pieces a request body arrived in (appended in order, uncopied). */
export type TraceData = Buffer | readonly Buffer[];

export function traceDataLength(data: TraceData): number {
  if (Buffer.isBuffer(data)) return data.length;
  let n = 0;
  for (const piece of data) n += piece.length;
  return n;
}

export type TraceAppendResult = { ok: true; size: number } | { ok: false; size: number };

export interface TraceStore {
  appendTrace(jobId: number, offset: number, data: TraceData): Promise<TraceAppendResult>;
  /** Bytes [offset, offset+limit) of the stored trace (all when limit is omitted). */
  readTrace(jobId: number, offset?: number, limit?: number): Promise<Buffer>;
}
