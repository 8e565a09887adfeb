/**
 * The fleet at a glance: the queue (pending jobs, oldest wait) from the coordinator's own metrics
 * with charts of its recent samples, the runners (online, paused, version, tags), and for each
 * autoscaled runner what its managers report: provider health with pause / unpause, and the
 * machines by provider and zone (state, age, job, use count).
 */
import { get } from '../api.js';
import { usePoll } from '../hooks.js';
import { html } from '../html.js';
import { listTable } from '../list-table.js';
import { ago, duration } from '../status.js';
import type { Runner } from '../types.js';
import { FleetCharts, type FleetSamples } from './fleet-charts.js';
import { RunnerFleet, type RunnerFleetView } from './fleet-providers.js';

interface FleetView {
  runners: Runner[];
  pending: number | null;
  oldestWait: number | null;
  fleets: RunnerFleetView[];
  samples: FleetSamples | null;
}

function gauge(metrics: string, name: string): number | null {
  let total: number | null = null;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value))
      total = name.includes('oldest') ? Math.max(total ?? 0, value) : (total ?? 0) + value;
  }
  return total;
}

async function loadFleet(): Promise<FleetView> {
  const runners = await get<Runner[]>('/runners/all?per_page=100').catch(() =>
    get<Runner[]>('/runners?per_page=100'),
  );
  const [metrics, fleets, samples] = await Promise.all([
    fetch('/metrics').then(
      (r) => (r.ok ? r.text() : ''),
      () => '',
    ),
    Promise.all(runners.map((r) => get<RunnerFleetView>(`/runners/${r.id}/providers`).catch(() => null))),
    get<FleetSamples>('/fleet/samples').catch(() => null),
  ]);
  return {
    runners,
    pending: gauge(metrics, 'flotilla_coordinator_jobs_pending'),
    oldestWait: gauge(metrics, 'flotilla_coordinator_oldest_pending_job_age_seconds'),
    fleets: fleets.filter((f): f is RunnerFleetView => f !== null && f.managers.length > 0),
    samples,
  };
}

function RunnersTable({ runners }: { runners: Runner[] }) {
  return listTable(
    'Runners',
    ['Runner', 'Status', 'Type', 'Tags', 'Version', 'Last contact'],
    runners.map(
      (r) =>
        html`<tr key=${r.id}>
          <td>#${r.id} ${r.description}</td>
          <td>${r.paused || r.active === false ? '⏸ paused' : r.online ? '● online' : '○ offline'}</td>
          <td>${r.runner_type ?? '–'}</td>
          <td>${(r.tag_list ?? []).join(', ') || '–'}</td>
          <td>${r.version ?? '–'}</td>
          <td>${ago(r.contacted_at)}</td>
        </tr>`,
    ),
  );
}

export function FleetPage() {
  const { data, error, reload } = usePoll(loadFleet, 3000, []);
  if (!data)
    return error ? html`<p class="error" role="alert">${error}</p>` : html`<p class="loading">Loading…</p>`;
  const machines = data.fleets.reduce((n, f) => n + f.managers.reduce((k, m) => k + m.machines.length, 0), 0);
  const title = (id: number): string => {
    const r = data.runners.find((x) => x.id === id);
    return `Runner #${id}${r?.description ? ` ${r.description}` : ''}`;
  };
  return html`<h1>Fleet</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <section aria-label="Queue" class="cards">
      <div class="card"><strong id="queue-pending">${data.pending ?? '–'}</strong> pending jobs</div>
      <div class="card">
        <strong>${data.oldestWait === null ? '–' : duration(data.oldestWait)}</strong> oldest wait
      </div>
      <div class="card"><strong id="machine-count">${machines}</strong> machines</div>
      <${FleetCharts} data=${data.samples} />
    </section>
    <h2>Runners</h2>
    <${RunnersTable} runners=${data.runners} />
    <h2>Autoscaled machines</h2>
    ${
      data.fleets.length === 0
        ? html`<p>No runner manager has reported an autoscaled fleet.</p>`
        : data.fleets.map(
            (f) =>
              html`<${RunnerFleet}
                key=${f.runner_id}
                view=${f}
                title=${title(f.runner_id)}
                onDone=${reload}
              />`,
          )
    }`;
}
