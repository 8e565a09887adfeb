/**
 * GitLab Runner's per-line job log header (`FF_TIMESTAMPS`), as its timestamper writes it and
 * GitLab's log parsers read it:
 *
 *     <RFC 3339 UTC time, microseconds, 27 chars> <stream id, 2 hex><O|E><' ' | '+'><content>
 *
 * e.g. `2024-05-01T12:34:56.123456Z 00O some text`. `O` is stdout and `E` stderr; `+` says the
 * entry continues the previous one, whose newline was added by the runner (a write that ended in
 * `\r`, or 8 KiB without a newline) and is not part of the output.
 */

/** `YYYY-MM-DDTHH:MM:SS.uuuuuuZ`. */
export const TIMESTAMP_LENGTH = 27;
/** The time, a space, the stream id, the stream type and the append flag. */
export const TIMESTAMP_HEADER_LENGTH = 32;

export type StreamType = 'O' | 'E';

const HEADER = /^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d\.\d{6}Z [0-9a-f]{2}[EO][+ ]/;

/** The header of an entry starting at `time` (microseconds are the clock's milliseconds, padded). */
export function timestampHeader(time: Date, streamId: number, type: StreamType, append: boolean): string {
  const iso = time.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ, always UTC
  const id = (streamId & 0xff).toString(16).padStart(2, '0');
  return `${iso.slice(0, 23)}000Z ${id}${type}${append ? '+' : ' '}`;
}

export interface StampedLine {
  time: string;
  streamId: number;
  type: StreamType;
  /** True when the line continues the previous one (the runner's newline between them is not output). */
  append: boolean;
  content: string;
}

/** The parts of one stored line (without its `\n`), or null when it has no header. */
export function parseStampedLine(line: string): StampedLine | null {
  if (!HEADER.test(line)) return null;
  return {
    time: line.slice(0, TIMESTAMP_LENGTH),
    streamId: parseInt(line.slice(TIMESTAMP_LENGTH + 1, TIMESTAMP_LENGTH + 3), 16),
    type: line[TIMESTAMP_LENGTH + 3] === 'E' ? 'E' : 'O',
    append: line[TIMESTAMP_HEADER_LENGTH - 1] === '+',
    content: line.slice(TIMESTAMP_HEADER_LENGTH),
  };
}

/** One line without its header (a line without one is returned as it is). */
export function stripTimestampHeader(line: string): string {
  return HEADER.test(line) ? line.slice(TIMESTAMP_HEADER_LENGTH) : line;
}

/**
 * A whole log as the job printed it: every header removed and each continuation joined to the
 * line before (the runner's added newline dropped). A log without headers is returned unchanged.
 */
export function stripLogTimestamps(text: string): string {
  const lines = text.split('\n');
  let out = '';
  lines.forEach((line, i) => {
    const parsed = parseStampedLine(line);
    if (i > 0 && !parsed?.append) out += '\n';
    out += parsed ? parsed.content : line;
  });
  return out;
}
