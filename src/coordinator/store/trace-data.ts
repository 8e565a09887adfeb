/** A trace chunk: one buffer, or the pieces a request body arrived in (appended in order, uncopied). */
export type TraceData = Buffer | readonly Buffer[];

export function traceDataLength(data: TraceData): number {
  if (Buffer.isBuffer(data)) return data.length;
  let n = 0;
  for (const piece of data) n += piece.length;
  return n;
}
