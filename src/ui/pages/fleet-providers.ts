/**
 * One autoscaled runner's fleet as its managers report it (`GET /api/v4/runners/:id/providers`):
 * provider health (paused or active and why, failing, backoff, errors) with pause / unpause /
 * automatic (administrators), and the machines by provider and zone with state, age, jobs and
 * use count.
 */
import { ActionButton } from '../actions.js';
import { html } from '../html.js';
import { listTable } from '../list-table.js';
import { ago, duration } from '../status.js';

interface ProviderView {
  name: string;
  backup: boolean;
  paused: boolean;
  failing: boolean;
  backoff: boolean;
  manual: 'paused' | 'unpaused' | 'auto';
  errors: number;
  errors_per_minute?: number;
  wanted: { manual: string; requested_at: string } | null;
  applied: boolean;
}

interface MachineView {
  id: string;
  provider: string;
  zone?: string;
  state: string;
  age_seconds: number;
  use_count: number;
  jobs: string[];
}

export interface ManagerView {
  system_id: string;
  runner_name: string | null;
  reported_at: string;
  stale: boolean;
  providers: ProviderView[];
  machines: MachineView[];
}

export interface RunnerFleetView {
  runner_id: number;
  managers: ManagerView[];
}

function health(p: ProviderView): string {
  // A primary paused by hand counts as failing, so that the backups take over.
  if (p.manual === 'paused' && !p.backup) return '‖ paused by hand: backups may take over';
  if (p.failing) return p.backoff ? '✖ failing (backing off)' : '✖ failing';
  return p.backoff ? '◌ backing off' : '✔ healthy';
}

/** The rate over the last five minutes first (is it failing now?), then the count since start. */
function errorCell(p: ProviderView): string {
  if (p.errors_per_minute === undefined) return `${p.errors} since start`;
  return `${p.errors_per_minute}/min (5 min) · ${p.errors} since start`;
}

function setting(p: ProviderView): string {
  const hand = p.manual === 'auto' ? (p.backup ? 'automatic (backup)' : 'automatic') : `${p.manual} by hand`;
  return p.wanted && !p.applied ? `${hand}; ${p.wanted.manual} asked, not applied yet` : hand;
}

function ProviderRow({ runnerId, p, onDone }: { runnerId: number; p: ProviderView; onDone: () => void }) {
  const path = `/runners/${runnerId}/providers/${encodeURIComponent(p.name)}`;
  return html`<tr data-provider=${p.name}>
    <th scope="row">${p.name}</th>
    <td>${p.backup ? 'backup' : 'primary'}</td>
    <td class="provider-state">${p.paused ? '‖ paused' : '▶ active'}</td>
    <td>${health(p)}</td>
    <td>${errorCell(p)}</td>
    <td class="provider-setting">${setting(p)}</td>
    <td class="actions">
      ${
        p.paused
          ? html`<${ActionButton} label=${`Unpause ${p.name}`} path=${`${path}/unpause`} onDone=${onDone} />`
          : html`<${ActionButton}
              label=${`Pause ${p.name}`}
              path=${`${path}/pause`}
              onDone=${onDone}
              danger
            />`
      }
      ${p.manual === 'auto' ? null : html`<${ActionButton} label=${`Automatic ${p.name}`} path=${`${path}/auto`} onDone=${onDone} />`}
    </td>
  </tr>`;
}

function Machines({ machines, label }: { machines: MachineView[]; label: string }) {
  if (machines.length === 0) return html`<p>No machines.</p>`;
  const sorted = [...machines].sort((a, b) =>
    `${a.provider} ${a.zone ?? ''} ${a.id}`.localeCompare(`${b.provider} ${b.zone ?? ''} ${b.id}`),
  );
  return listTable(
    label,
    ['Machine', 'Provider', 'Zone', 'State', 'Age', 'Job', 'Use count'],
    sorted.map(
      (m) =>
        html`<tr key=${m.id} data-machine=${m.id}>
          <td>${m.id}</td>
          <td>${m.provider}</td>
          <td>${m.zone ?? '–'}</td>
          <td>${m.state}</td>
          <td>${duration(m.age_seconds)}</td>
          <td>${m.jobs.map((j) => j.replace(/^job-/, '#')).join(', ') || '–'}</td>
          <td>${m.use_count}</td>
        </tr>`,
    ),
  );
}

function Manager({ runnerId, m, onDone }: { runnerId: number; m: ManagerView; onDone: () => void }) {
  return html`<section class="manager" aria-label=${`Manager ${m.system_id}`}>
    <h4>
      Manager ${m.system_id}${m.runner_name ? ` (${m.runner_name})` : ''} · reported ${ago(m.reported_at)}
      ${m.stale ? html`<span class="error"> — stale: no report for over a minute</span>` : null}
    </h4>
    ${listTable(
      `Providers of runner #${runnerId}`,
      ['Provider', 'Role', 'State', 'Health', 'Errors', 'Setting', 'Actions'],
      m.providers.map(
        (p) => html`<${ProviderRow} key=${p.name} runnerId=${runnerId} p=${p} onDone=${onDone} />`,
      ),
    )}
    <${Machines} machines=${m.machines} label=${`Machines of runner #${runnerId}`} />
  </section>`;
}

export function RunnerFleet(props: { view: RunnerFleetView; title: string; onDone: () => void }) {
  const { view } = props;
  return html`<section class="runner-fleet" data-runner=${view.runner_id}>
    <h3>${props.title}</h3>
    ${view.managers.map(
      (m) => html`<${Manager} key=${m.system_id} runnerId=${view.runner_id} m=${m} onDone=${props.onDone} />`,
    )}
  </section>`;
}
