/**
 * A job's log, live: it follows the coordinator's log stream (Server-Sent Events) from the last
 * `TAIL_BYTES` of the log, reconnects from where it stopped when the connection drops (and says
 * so), and shows GitLab's collapsible sections and ANSI colours; per-line timestamps on demand
 * (the runner's own when it sends them, else when the line reached the page).
 */
import { useEffect, useRef, useState } from 'preact/hooks';

import { LogParser, type LogLine } from './ansi.js';
import { html } from './html.js';

const TAIL_BYTES = 512 * 1024;
const RETRY_MS = 2000;

interface StreamState {
  lines: LogLine[];
  pending: LogLine | null;
  skipped: number;
  ended: boolean;
  lost: boolean;
}

function useLogStream(url: string): StreamState {
  const [state, setState] = useState<StreamState>({
    lines: [],
    pending: null,
    skipped: 0,
    ended: false,
    lost: false,
  });
  useEffect(() => {
    const parser = new LogParser();
    let offset: number | null = null;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    let skipped = 0;
    const publish = (patch: Partial<StreamState>): void =>
      setState((s) => ({ ...s, lines: [...parser.lines], pending: parser.pendingLine(), skipped, ...patch }));
    const open = (): void => {
      source = new EventSource(offset === null ? `${url}?tail=${TAIL_BYTES}` : `${url}?offset=${offset}`);
      source.addEventListener('start', (e) => {
        const start = JSON.parse((e as MessageEvent<string>).data) as { offset: number };
        if (offset === null) skipped = start.offset;
        offset = start.offset;
        publish({ lost: false });
      });
      source.addEventListener('log', (e) => {
        const chunk = JSON.parse((e as MessageEvent<string>).data) as { offset: number; text: string };
        parser.push(chunk.text, new Date().toISOString());
        offset = chunk.offset + new TextEncoder().encode(chunk.text).length;
        publish({});
      });
      source.addEventListener('end', () => {
        done = true;
        source?.close();
        publish({ ended: true, lost: false });
      });
      source.onerror = () => {
        source?.close();
        if (done) return;
        publish({ lost: true });
        retry = setTimeout(open, RETRY_MS);
      };
    };
    open();
    return () => {
      done = true;
      source?.close();
      if (retry) clearTimeout(retry);
    };
  }, [url]);
  return state;
}

const TIMES_KEY = 'flotilla.log.times';

/** HH:MM:SS in UTC, as GitLab's job page shows runner timestamps. */
function clock(iso: string | undefined): string {
  if (!iso) return '        ';
  const d = new Date(iso);
  return [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

function Line({ line, times }: { line: LogLine; times: boolean }) {
  return html`<div class="log-line">
    ${times ? html`<span class="log-time" title=${line.time ?? ''}>${clock(line.time)} </span>` : null}
    ${line.spans.map((s) => html`<span class=${s.classes}>${s.text}</span>`)}
  </div>`;
}

export function LogView({ streamUrl, rawUrl }: { streamUrl: string; rawUrl: string }) {
  const state = useLogStream(streamUrl);
  const [toggled, setToggled] = useState<Record<string, boolean>>({});
  const [follow, setFollow] = useState(true);
  const [times, setTimes] = useState(() => localStorage.getItem(TIMES_KEY) === '1');
  const toggleTimes = (): void => {
    localStorage.setItem(TIMES_KEY, times ? '0' : '1');
    setTimes(!times);
  };
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (follow) end.current?.scrollIntoView({ block: 'end' });
  }, [state.lines.length, state.pending, follow]);
  const collapsed = new Set<string>();
  for (const line of state.lines) {
    if (line.header) {
      const open = toggled[line.header.name];
      if (open === undefined ? line.header.collapsed : !open) collapsed.add(line.header.name);
    }
  }
  const hidden = (line: LogLine): boolean => line.section !== null && collapsed.has(line.section);
  return html`<section class="log-panel" aria-label="Job log">
    <p class="log-tools">
      <label
        ><input type="checkbox" checked=${follow} onChange=${() => setFollow(!follow)} /> Follow the
        log</label
      >
      <label
        title="The runner's own timestamps when it sends them (FF_TIMESTAMPS), else when this page received the line"
        ><input type="checkbox" id="log-timestamps" checked=${times} onChange=${toggleTimes} /> Show
        timestamps (UTC)</label
      >
      <a href=${rawUrl}>Raw log</a>
      ${state.lost ? html`<span class="error" role="status">Log stream lost — reconnecting…</span>` : null}
      ${state.ended ? html`<span class="muted" id="log-complete">Log complete</span>` : html`<span class="muted" role="status">Live</span>`}
    </p>
    ${
      state.skipped > 0
        ? html`<p class="muted">
            The first ${(state.skipped / 1048576).toFixed(1)} MB are not shown: open the raw log for them.
          </p>`
        : null
    }
    <pre class="log" id="job-log">${state.lines.map((line, i) => {
      if (line.sectionEndOf !== undefined || hidden(line)) return null;
      if (line.header) {
        const name = line.header.name;
        const isOpen = !collapsed.has(name);
        return html`<button
          type="button"
          key=${i}
          class="section-header"
          aria-expanded=${isOpen}
          onClick=${() => setToggled((t) => ({ ...t, [name]: !isOpen }))}
        >
          <span aria-hidden="true">${isOpen ? '▾' : '▸'}</span><${Line} line=${line} times=${times} />
        </button>`;
      }
      return html`<${Line} key=${i} line=${line} times=${times} />`;
    })}${state.pending && !hidden(state.pending) ? html`<${Line} line=${state.pending} times=${times} />` : null}<div ref=${end}></div></pre>
  </section>`;
}
