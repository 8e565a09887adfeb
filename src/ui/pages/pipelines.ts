/** A project's pipelines with filters by status and ref; refreshes while it is open. */
import { get, getPage } from '../api.js';
import { usePoll } from '../hooks.js';
import { html } from '../html.js';
import { listTable } from '../list-table.js';
import { ago, duration, StatusBadge } from '../status.js';
import type { Pipeline, Project } from '../types.js';
import { Pager } from './pager.js';

const STATUSES = ['', 'created', 'pending', 'running', 'success', 'failed', 'canceled', 'skipped', 'manual'];

function go(projectId: string, params: URLSearchParams): void {
  location.hash = `#/projects/${projectId}?${params.toString()}`;
}

function pipelineRow(projectId: string, p: Pipeline) {
  return html`<tr key=${p.id} data-pipeline=${p.id}>
    <td><${StatusBadge} status=${p.status} /></td>
    <td><a href=${`#/projects/${projectId}/pipelines/${p.id}`}>#${p.id}</a></td>
    <td>${p.ref}</td>
    <td><code>${p.sha.slice(0, 8)}</code></td>
    <td>${p.source}</td>
    <td>${p.user?.username ?? '–'}</td>
    <td>${duration(p.duration)}</td>
    <td>${ago(p.created_at)}</td>
  </tr>`;
}

export function PipelinesPage({ projectId, query }: { projectId: string; query: URLSearchParams }) {
  const page = Number(query.get('page') ?? '1') || 1;
  const status = query.get('status') ?? '';
  const ref = query.get('ref') ?? '';
  const project = usePoll(() => get<Project>(`/projects/${encodeURIComponent(projectId)}`), 0, [projectId]);
  const filter = new URLSearchParams({ per_page: '20', page: String(page) });
  if (status) filter.set('status', status);
  if (ref) filter.set('ref', ref);
  const list = usePoll(
    () => getPage<Pipeline>(`/projects/${encodeURIComponent(projectId)}/pipelines?${filter.toString()}`),
    2000,
    [projectId, page, status, ref],
  );
  const setFilter = (key: string, value: string): void => {
    const q = new URLSearchParams(query);
    if (value) q.set(key, value);
    else q.delete(key);
    q.delete('page');
    go(projectId, q);
  };
  return html`<h1>${project.data?.path_with_namespace ?? 'Project'} — pipelines</h1>
    ${project.error ? html`<p class="error" role="alert">${project.error}</p>` : null}
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <label
        >Status
        <select
          value=${status}
          onChange=${(e: Event) => setFilter('status', (e.target as HTMLSelectElement).value)}
        >
          ${STATUSES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}
        </select>
      </label>
      <label
        >Ref
        <input
          type="search"
          value=${ref}
          placeholder="branch or tag"
          onChange=${(e: Event) => setFilter('ref', (e.target as HTMLInputElement).value.trim())}
        />
      </label>
    </form>
    ${list.error ? html`<p class="error" role="alert">${list.error}</p>` : null}
    ${
      list.data
        ? html`${listTable(
              'Pipelines',
              ['Status', 'Pipeline', 'Ref', 'Commit', 'Source', 'Triggerer', 'Duration', 'Created'],
              list.data.items.map((p) => pipelineRow(projectId, p)),
            )}
            ${list.data.items.length === 0 ? html`<p>No pipelines match.</p>` : null}
            <${Pager}
              base=${`#/projects/${projectId}`}
              page=${page}
              totalPages=${list.data.totalPages}
              params=${query}
            />`
        : html`<p class="loading">Loading…</p>`
    }`;
}
