/** Every project the user may see, newest activity last, paged. */
import { getPage } from '../api.js';
import { usePoll } from '../hooks.js';
import { html } from '../html.js';
import { listTable } from '../list-table.js';
import { ago } from '../status.js';
import type { Project } from '../types.js';
import { Pager } from './pager.js';

export function ProjectsPage({ query }: { query: URLSearchParams }) {
  const page = Number(query.get('page') ?? '1') || 1;
  const { data, error } = usePoll(() => getPage<Project>(`/projects?per_page=50&page=${page}`), 10_000, [
    page,
  ]);
  return html`<h1>Projects</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      data
        ? html`${listTable(
              undefined,
              ['Project', 'Visibility', 'Default branch', 'Last activity'],
              data.items.map(
                (p) =>
                  html`<tr key=${p.id}>
                    <td><a href=${`#/projects/${p.id}`}>${p.path_with_namespace}</a></td>
                    <td>${p.visibility}</td>
                    <td>${p.default_branch}</td>
                    <td>${ago(p.last_activity_at)}</td>
                  </tr>`,
              ),
            )}
            ${data.items.length === 0 ? html`<p>No projects yet.</p>` : null}
            <${Pager} base="#/" page=${page} totalPages=${data.totalPages} params=${query} />`
        : html`<p class="loading">Loading…</p>`
    }`;
}
