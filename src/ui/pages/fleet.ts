/**
 * The fleet at a glance: runners (online, paused, version, tags), the queue (pending jobs, oldest
 * wait) from the coordinator's own metrics, and the autoscaled machines its managers report
 * (by provider, zone and state, from the coordinator's service discovery list). The small charts
 * cover the time since the page was opened.
 */
import { useRef } from 'preact/hooks';

import { get } from '../api.js';
import { usePoll } from '../hooks.js';
import { html } from '../html.js';
import { ago, duration } from '../status.js';
import type { Runner } from '../types.js';

interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

interface FleetView {
  runners: Runner[];
  pending: number | null;
  oldestWait: number | null;
  machines: Record<string, string>[];
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
  const metrics = await fetch('/metrics').then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const groups = await fetch('/-/discovery/targets').then(
    (r) => (r.ok ? (r.json() as Promise<TargetGroup[]>) : []),
    () => [],
  );
  return {
    runners,
    pending: gauge(metrics, 'flotilla_coordinator_jobs_pending'),
    oldestWait: gauge(metrics, 'flotilla_coordinator_oldest_pending_job_age_seconds'),
    machines: groups.filter((g) => g.labels['__meta_flotilla_component'] === 'machine').map((g) => g.labels),
  };
}

function Sparkline({ values, label }: { values: number[]; label: string }) {
  const max = Math.max(1, ...values);
  const points = values
    .map((v, i) => `${(i / Math.max(1, values.length - 1)) * 200},${40 - (v / max) * 38}`)
    .join(' ');
  return html`<figure class="spark">
    <svg
      viewBox="0 0 200 40"
      width="200"
      height="40"
      role="img"
      aria-label=${`${label}: latest ${values.at(-1) ?? 0}, max ${max}`}
    >
      <polyline points=${points} fill="none" stroke="currentColor" stroke-width="2" />
    </svg>
    <figcaption>${label} (since this page opened; max ${max})</figcaption>
  </figure>`;
}

export function FleetPage() {
  const history = useRef<{ pending: number[]; machines: number[] }>({ pending: [], machines: [] });
  const { data, error } = usePoll(
    async () => {
      const view = await loadFleet();
      const h = history.current;
      h.pending = [...h.pending, view.pending ?? 0].slice(-360);
      h.machines = [...h.machines, view.machines.length].slice(-360);
      return view;
    },
    5000,
    [],
  );
  if (!data)
    return error ? html`<p class="error" role="alert">${error}</p>` : html`<p class="loading">Loading…</p>`;
  return html`<h1>Fleet</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <section aria-label="Queue" class="cards">
      <div class="card"><strong id="queue-pending">${data.pending ?? '–'}</strong> pending jobs</div>
      <div class="card">
        <strong>${data.oldestWait === null ? '–' : duration(data.oldestWait)}</strong> oldest wait
      </div>
      <div class="card"><strong>${data.machines.length}</strong> machines</div>
      <${Sparkline} values=${history.current.pending} label="Pending jobs" />
      <${Sparkline} values=${history.current.machines} label="Machines" />
    </section>
    <h2>Runners</h2>
    <table class="list" aria-label="Runners">
      <thead>
        <tr>
          <th scope="col">Runner</th>
          <th scope="col">Status</th>
          <th scope="col">Type</th>
          <th scope="col">Tags</th>
          <th scope="col">Version</th>
          <th scope="col">Last contact</th>
        </tr>
      </thead>
      <tbody>
        ${data.runners.map(
          (r) =>
            html`<tr key=${r.id}>
              <td>#${r.id} ${r.description}</td>
              <td>${r.paused || r.active === false ? '⏸ paused' : r.online ? '● online' : '○ offline'}</td>
              <td>${r.runner_type ?? '–'}</td>
              <td>${(r.tag_list ?? []).join(', ') || '–'}</td>
              <td>${r.version ?? '–'}</td>
              <td>${ago(r.contacted_at)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h2>Machines</h2>
    ${
      data.machines.length === 0
        ? html`<p>
            No autoscaled machines reported (managers list theirs when they poll with a metrics address).
          </p>`
        : html`<table class="list" aria-label="Machines">
            <thead>
              <tr>
                <th scope="col">Machine</th>
                <th scope="col">Provider</th>
                <th scope="col">Zone</th>
                <th scope="col">State</th>
                <th scope="col">Runner</th>
              </tr>
            </thead>
            <tbody>
              ${data.machines.map(
                (m) =>
                  html`<tr>
                    <td>${m['__meta_flotilla_instance_id'] ?? '–'}</td>
                    <td>${m['__meta_flotilla_provider'] ?? '–'}</td>
                    <td>${m['__meta_flotilla_zone'] ?? '–'}</td>
                    <td>${m['__meta_flotilla_state'] ?? '–'}</td>
                    <td>${m['__meta_flotilla_runner_name'] ?? m['__meta_flotilla_runner'] ?? '–'}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}
