/**
 * Streams job logs from the coordinator's REST API to the terminal as they grow: each job's new
 * bytes are cut into complete lines, section markers are dropped, and lines get the job's name as
 * a prefix when several jobs run at once. The runner's per-line timestamp headers (FF_TIMESTAMPS)
 * are dropped, as GitLab's job page shows the text without them; an entry the runner marked as
 * continuing the previous one (after a `\r` progress write) is printed as a line of its own.
 */
import { stripTimestampHeader } from '../../shared/log-timestamps.js';

// Job logs carry ANSI escapes; matching ESC is the point here.
// eslint-disable-next-line no-control-regex
const SECTION_RE = /section_(?:start|end):\d+:[^\r\n]*\r\x1b\[0K/g;
// eslint-disable-next-line no-control-regex
const CLEAR_LINE_RE = /\r?\x1b\[0K/g;

export function cleanLogLine(line: string): string {
  return stripTimestampHeader(line).replace(SECTION_RE, '').replace(CLEAR_LINE_RE, '').replace(/\r$/, '');
}

export class JobLogCursor {
  #offset = 0;
  #partial: Buffer = Buffer.alloc(0);

  /** Takes the full trace as stored now and returns the new complete lines. */
  advance(trace: Buffer): string[] {
    if (trace.length <= this.#offset) return [];
    const buf = Buffer.concat([this.#partial, trace.subarray(this.#offset)]);
    this.#offset = trace.length;
    const lastNewline = buf.lastIndexOf(0x0a);
    if (lastNewline < 0) {
      this.#partial = buf;
      return [];
    }
    this.#partial = buf.subarray(lastNewline + 1);
    return buf
      .subarray(0, lastNewline)
      .toString('utf8')
      .split('\n')
      .map(cleanLogLine)
      .filter((l) => l.length > 0);
  }

  /** The last line without a newline, at the end of the job. */
  flush(): string[] {
    const rest = cleanLogLine(this.#partial.toString('utf8'));
    this.#partial = Buffer.alloc(0);
    return rest ? [rest] : [];
  }
}
