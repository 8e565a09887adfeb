/** One job: status, timings, runner, artifacts (to browse and download), actions, and its live log. */
import { ActionButton } from '../actions.js';
import { get } from '../api.js';
import { usePoll } from '../hooks.js';
import { html } from '../html.js';
import { LogView } from '../log-view.js';
import { duration, StatusBadge } from '../status.js';
import type { Job } from '../types.js';
import { JobArtifacts } from './job-artifacts.js';

const ACTIVE = new Set(['created', 'pending', 'running', 'waiting_for_resource', 'preparing', 'canceling']);

export function JobPage({ projectId, jobId }: { projectId: string; jobId: string }) {
  const path = `/projects/${encodeURIComponent(projectId)}/jobs/${jobId}`;
  const { data: job, error, reload } = usePoll(() => get<Job>(path), 2000, [path]);
  if (!job)
    return error ? html`<p class="error" role="alert">${error}</p>` : html`<p class="loading">Loading…</p>`;
  const archive = job.artifacts?.find((a) => a.file_type === 'archive');
  return html`<p>
      <a href=${`#/projects/${projectId}/pipelines/${job.pipeline.id}`}>← Pipeline #${job.pipeline.id}</a>
    </p>
    <h1>
      ${job.name}
      <span id="job-status"><${StatusBadge} status=${job.status} allowFailure=${job.allow_failure} /></span>
    </h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <dl class="facts">
      <dt>Stage</dt>
      <dd>${job.stage}</dd>
      <dt>Duration</dt>
      <dd>${duration(job.duration)}</dd>
      <dt>Queued</dt>
      <dd>${duration(job.queued_duration)}</dd>
      <dt>Started</dt>
      <dd>${job.started_at ? new Date(job.started_at).toLocaleString() : '–'}</dd>
      <dt>Finished</dt>
      <dd>${job.finished_at ? new Date(job.finished_at).toLocaleString() : '–'}</dd>
      <dt>Runner</dt>
      <dd>${job.runner ? `#${job.runner.id} ${job.runner.description}` : '–'}</dd>
      ${
        job.failure_reason
          ? html`<dt>Failure</dt>
              <dd>${job.failure_reason.replace(/_/g, ' ')}</dd>`
          : null
      }
    </dl>
    <p class="actions">
      ${ACTIVE.has(job.status) ? html`<${ActionButton} label="Cancel" path=${`${path}/cancel`} onDone=${reload} danger />` : null}
      ${job.status === 'manual' ? html`<${ActionButton} label="Play" path=${`${path}/play`} onDone=${reload} />` : null}
      ${['failed', 'canceled', 'success'].includes(job.status) ? html`<${ActionButton} label="Retry" path=${`${path}/retry`} onDone=${reload} />` : null}
    </p>
    ${archive ? html`<${JobArtifacts} path=${path} archiveSize=${archive.size} />` : null}
    <${LogView} key=${path} streamUrl=${`/api/v4${path}/trace/stream`} rawUrl=${`/api/v4${path}/trace`} />`;
}
