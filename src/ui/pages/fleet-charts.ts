/**
 * Small charts of the coordinator's own samples (`GET /api/v4/fleet/samples`, up to the last 6
 * hours, kept by the coordinator rather than since this page opened): pending jobs, the oldest
 * wait and the machines the runner managers report.
 */
import { html } from '../html.js';
import { duration } from '../status.js';

export interface FleetSample {
  at: string;
  pending: number;
  oldest_wait_seconds: number;
  machines: number;
}

export interface FleetSamples {
  interval_seconds: number;
  samples: FleetSample[];
}

function span(samples: FleetSample[]): string {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || first === last) return 'just started';
  return `last ${duration((Date.parse(last.at) - Date.parse(first.at)) / 1000)}`;
}

function Chart(props: {
  values: number[];
  label: string;
  span: string;
  id: string;
  format?: (v: number) => string;
}) {
  const { values } = props;
  const format = props.format ?? String;
  const max = Math.max(1, ...values);
  const points = values
    .map((v, i) => `${(i / Math.max(1, values.length - 1)) * 200},${40 - (v / max) * 38}`)
    .join(' ');
  return html`<figure class="spark" id=${props.id} data-samples=${values.length}>
    <svg
      viewBox="0 0 200 40"
      width="200"
      height="40"
      role="img"
      aria-label=${`${props.label}, ${props.span}: latest ${format(values.at(-1) ?? 0)}, max ${format(max)}`}
    >
      <polyline points=${points} fill="none" stroke="currentColor" stroke-width="2" />
    </svg>
    <figcaption>${props.label} (${props.span}; max ${format(max)})</figcaption>
  </figure>`;
}

export function FleetCharts({ data }: { data: FleetSamples | null }) {
  if (!data) return null;
  const s = data.samples;
  const when = span(s);
  return html`<${Chart}
      id="chart-pending"
      values=${s.map((x) => x.pending)}
      label="Pending jobs"
      span=${when}
    />
    <${Chart}
      id="chart-wait"
      values=${s.map((x) => x.oldest_wait_seconds)}
      label="Oldest wait"
      span=${when}
      format=${(v: number) => duration(v)}
    />
    <${Chart} id="chart-machines" values=${s.map((x) => x.machines)} label="Machines" span=${when} />`;
}
