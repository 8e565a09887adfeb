/** A job (or trigger job) on the pipeline page: status, link, duration, its `needs`, actions. */
import { ActionButton } from '../actions.js';
import { html } from '../html.js';
import { duration, StatusBadge } from '../status.js';
import type { Job } from '../types.js';

export const ACTIVE = new Set([
  'created',
  'pending',
  'running',
  'waiting_for_resource',
  'preparing',
  'canceling',
]);

function needsText(needs: string[]): string {
  return needs.length === 0 ? 'needs: nothing (starts at once)' : `needs: ${needs.join(', ')}`;
}

export function JobCard({ job, projectId, reload }: { job: Job; projectId: string; reload: () => void }) {
  const path = `/projects/${encodeURIComponent(projectId)}/jobs/${job.id}`;
  const child = job.downstream_pipeline;
  return html`<li class="job" data-job=${job.name} data-job-id=${job.id}>
    <${StatusBadge} status=${job.status} allowFailure=${job.allow_failure} />
    ${
      child
        ? html`<a href=${`#/projects/${child.project_id}/pipelines/${child.id}`}
            >${job.name} → child #${child.id}</a
          >`
        : html`<a href=${`#${path}`}>${job.name}</a>`
    }
    <span class="muted">${duration(job.duration)}</span>
    ${Array.isArray(job.needs) ? html`<span class="needs muted">${needsText(job.needs)}</span>` : null}
    ${
      child
        ? null
        : html`<span class="job-actions">
            ${job.status === 'manual' ? html`<${ActionButton} label=${`Play ${job.name}`} path=${`${path}/play`} onDone=${reload} />` : null}
            ${ACTIVE.has(job.status) ? html`<${ActionButton} label=${`Cancel ${job.name}`} path=${`${path}/cancel`} onDone=${reload} danger />` : null}
            ${['failed', 'canceled', 'success'].includes(job.status) ? html`<${ActionButton} label=${`Retry ${job.name}`} path=${`${path}/retry`} onDone=${reload} />` : null}
          </span>`
    }
  </li>`;
}
