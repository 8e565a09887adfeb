/**
 * A job log as GitLab's job page shows it: ANSI colours (SGR), `\r` overwrites within a line, and
 * collapsible sections (`section_start:<time>:<name>[collapsed=true]\r\e[0K<title>` …
 * `section_end:<time>:<name>\r\e[0K`). Text arrives in pieces; a line is parsed once it is whole.
 */
export interface Span {
  text: string;
  classes: string;
}

export interface LogLine {
  spans: Span[];
  /** The section this line belongs to (innermost), if any. */
  section: string | null;
  /** Set on a section's first line: its name and whether it starts collapsed. */
  header?: { name: string; collapsed: boolean };
  /** Set on the line that closes a section (it has no text of its own). */
  sectionEndOf?: string;
  /** The runner's own timestamp of the line (GitLab's `FF_TIMESTAMPS` prefix), else when the page received it. */
  time?: string;
}

/**
 * GitLab Runner's per-line header with timestamps on (FF_TIMESTAMPS), as GitLab's log parser reads
 * it: `<RFC 3339 UTC, microseconds> <stream id, 2 hex><O|E><' '|'+'>`. `+` continues the previous
 * entry: the runner ended that one with a newline of its own (a `\r` progress write, or 8 KiB
 * without a newline), so the two are one line.
 */
const RUNNER_TIMESTAMP = /^(\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d\.\d{6}Z) [0-9a-f]{2}[EO]([+ ])/;

/** The last whole raw line and the parser state before it, to join a continuation to it. */
interface LastRaw {
  content: string;
  linesBefore: number;
  style: Style;
  sections: string[];
}

interface Style {
  fg: string | null;
  bg: string | null;
  bold: boolean;
  italic: boolean;
  underline: boolean;
}

const PLAIN: Style = { fg: null, bg: null, bold: false, italic: false, underline: false };
// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[([0-9;]*)([A-Za-z])/g;
// eslint-disable-next-line no-control-regex
const SECTION = /section_(start|end):\d+:([A-Za-z0-9_.-]+)(\[[^\]]*\])?\r?(\x1b\[0K)?/;

function apply(style: Style, codes: number[]): Style {
  let s = { ...style };
  if (codes.length === 0) codes = [0];
  for (const c of codes) {
    if (c === 0) s = { ...PLAIN };
    else if (c === 1) s.bold = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 22) s.bold = false;
    else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) s.fg = `fg-${c}`;
    else if (c === 39) s.fg = null;
    else if ((c >= 40 && c <= 47) || (c >= 100 && c <= 107)) s.bg = `bg-${c}`;
    else if (c === 49) s.bg = null;
  }
  return s;
}

function classesOf(s: Style): string {
  return [s.fg, s.bg, s.bold ? 'b' : null, s.italic ? 'i' : null, s.underline ? 'u' : null]
    .filter(Boolean)
    .join(' ');
}

/** The visible text of a raw line: what follows its last `\r` (a carriage return overwrites). */
function lastOverwrite(raw: string): string {
  const trimmed = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const i = trimmed.lastIndexOf('\r');
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

export class LogParser {
  readonly lines: LogLine[] = [];
  #partial = '';
  #style: Style = { ...PLAIN };
  #sections: string[] = [];
  #last: LastRaw | null = null;

  /** Adds text (received at `receivedAt`, ISO); returns how many whole lines were added. */
  push(text: string, receivedAt?: string): number {
    const all = this.#partial + text;
    const parts = all.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const raw of parts) this.#raw(raw, receivedAt);
    return parts.length;
  }

  /** One whole raw line: its header (if any) taken off, joined to the line before when it continues it. */
  #raw(raw: string, receivedAt: string | undefined): void {
    const stamp = RUNNER_TIMESTAMP.exec(raw);
    let content = stamp ? raw.slice(stamp[0].length) : raw;
    const last = this.#last;
    if (stamp?.[2] === '+' && last) {
      // parse the previous entry again, with this one appended (the newline between was the runner's)
      this.lines.length = last.linesBefore;
      this.#style = last.style;
      this.#sections = [...last.sections];
      content = last.content + content;
    }
    const before = this.lines.length;
    this.#last = { content, linesBefore: before, style: { ...this.#style }, sections: [...this.#sections] };
    this.#line(content);
    // a continued line shows the time of its newest part, as GitLab's page does
    const time = stamp?.[1] ?? receivedAt;
    if (time !== undefined) for (const line of this.lines.slice(before)) line.time = time;
  }

  /** The unfinished last line, parsed without being kept. */
  pendingLine(): LogLine | null {
    if (!this.#partial) return null;
    const stamp = RUNNER_TIMESTAMP.exec(this.#partial);
    const text = stamp ? this.#partial.slice(stamp[0].length) : this.#partial;
    const spans = this.#spans(lastOverwrite(text), { ...this.#style });
    return {
      spans: spans.spans,
      section: this.#sections.at(-1) ?? null,
      ...(stamp?.[1] !== undefined ? { time: stamp[1] } : {}),
    };
  }

  #line(raw: string): void {
    const marker = SECTION.exec(raw);
    if (marker) {
      const [whole, kind, name = '', options = ''] = marker;
      const rest = raw.slice(marker.index + whole.length);
      if (kind === 'start') {
        const parsed = this.#spans(lastOverwrite(rest), this.#style);
        this.#style = parsed.style;
        this.lines.push({
          spans: parsed.spans,
          section: this.#sections.at(-1) ?? null,
          header: { name, collapsed: options.includes('collapsed=true') },
        });
        this.#sections.push(name);
      } else {
        const i = this.#sections.lastIndexOf(name);
        if (i >= 0) this.#sections.length = i;
        this.lines.push({ spans: [], section: this.#sections.at(-1) ?? null, sectionEndOf: name });
        if (rest) this.#line(rest);
      }
      return;
    }
    const parsed = this.#spans(lastOverwrite(raw), this.#style);
    this.#style = parsed.style;
    this.lines.push({ spans: parsed.spans, section: this.#sections.at(-1) ?? null });
  }

  #spans(text: string, start: Style): { spans: Span[]; style: Style } {
    const spans: Span[] = [];
    let style = start;
    let last = 0;
    SGR.lastIndex = 0;
    for (let m = SGR.exec(text); m; m = SGR.exec(text)) {
      if (m.index > last) spans.push({ text: text.slice(last, m.index), classes: classesOf(style) });
      if (m[2] === 'm') style = apply(style, (m[1] ?? '').split(';').filter(Boolean).map(Number));
      last = m.index + m[0].length;
    }
    if (last < text.length) spans.push({ text: text.slice(last), classes: classesOf(style) });
    return { spans, style };
  }
}
