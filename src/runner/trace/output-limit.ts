/** The `output_limit` cut: at most `limitBytes` of job log, cut at a UTF-8 boundary, then a notice. */

export function outputLimitNotice(limitBytes: number): string {
  return `\n\x1b[33;1mJob's log exceeded limit of ${limitBytes} bytes.\nJob execution will continue but no more output will be collected.\x1b[0;m\n`;
}

/** Largest n ≤ max such that bytes[0..n) does not end inside a UTF-8 sequence. */
export function utf8Boundary(bytes: Uint8Array, max: number): number {
  let n = Math.min(max, bytes.length);
  // bytes[n] is where the next piece would start; it must not be a continuation byte (10xxxxxx)
  while (n > 0 && n < bytes.length && ((bytes[n] ?? 0) & 0xc0) === 0x80) n--;
  return n;
}

export interface OutputLimiter {
  /** Returns the part of `chunk` that fits (plus the notice at the cut), or an empty buffer once full. */
  write(chunk: Buffer): Buffer;
  readonly truncated: boolean;
}

/** `decorate` turns the notice into the bytes stored (e.g. with a timestamp on each line). */
export function createOutputLimiter(
  limitBytes: number,
  decorate: (notice: string) => Buffer = (notice) => Buffer.from(notice),
): OutputLimiter {
  let written = 0;
  let truncated = false;
  return {
    get truncated() {
      return truncated;
    },
    write(chunk) {
      if (truncated) return Buffer.alloc(0);
      if (written + chunk.length <= limitBytes) {
        written += chunk.length;
        return chunk;
      }
      const keep = utf8Boundary(chunk, limitBytes - written);
      truncated = true;
      written += keep;
      return Buffer.concat([chunk.subarray(0, keep), decorate(outputLimitNotice(limitBytes))]);
    },
  };
}
