/**
 * One pipeline as GitLab draws it: a column per stage (or by `needs`, with lines), its jobs (and
 * trigger jobs with a link to the child pipeline), actions (retry, cancel, play), the test
 * report summary and the environments it deployed to. Refreshes
 * every two seconds while it is open.
 */
import { ActionButton } from '../actions.js';
import { get } from '../api.js';
import { usePoll } from '../hooks.js';
import { html } from '../html.js';
import { duration, StatusBadge } from '../status.js';
import type { Job, Pipeline } from '../types.js';
import { JobColumns } from './job-columns.js';
import { ACTIVE } from './job-card.js';
import { PipelineEnvironments } from './pipeline-environments.js';

interface TestSummary {
  total: { count: number; success: number; failed: number; skipped: number; error: number };
}

interface PipelineView {
  pipeline: Pipeline;
  jobs: Job[];
  bridges: Job[];
  tests: TestSummary | null;
}

async function loadView(projectId: string, pipelineId: string): Promise<PipelineView> {
  const base = `/projects/${encodeURIComponent(projectId)}/pipelines/${pipelineId}`;
  const [pipeline, jobs, bridges, tests] = await Promise.all([
    get<Pipeline>(base),
    get<Job[]>(`${base}/jobs?per_page=100&include_retried=false`),
    get<Job[]>(`${base}/bridges?per_page=100`),
    get<TestSummary>(`${base}/test_report_summary`).catch(() => null),
  ]);
  return { pipeline, jobs, bridges, tests };
}

export function PipelinePage({ projectId, pipelineId }: { projectId: string; pipelineId: string }) {
  const { data, error, reload } = usePoll(() => loadView(projectId, pipelineId), 2000, [
    projectId,
    pipelineId,
  ]);
  if (!data)
    return error ? html`<p class="error" role="alert">${error}</p>` : html`<p class="loading">Loading…</p>`;
  const { pipeline, tests } = data;
  const base = `/projects/${encodeURIComponent(projectId)}/pipelines/${pipelineId}`;
  const t = tests?.total;
  return html`<p><a href=${`#/projects/${projectId}`}>← Pipelines</a></p>
    <h1>
      Pipeline #${pipeline.id} <span id="pipeline-status"><${StatusBadge} status=${pipeline.status} /></span>
    </h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <dl class="facts">
      <dt>Ref</dt>
      <dd>${pipeline.ref}</dd>
      <dt>Commit</dt>
      <dd><code>${pipeline.sha.slice(0, 8)}</code></dd>
      <dt>Source</dt>
      <dd>${pipeline.source}</dd>
      <dt>Triggered by</dt>
      <dd>${pipeline.user?.username ?? '–'}</dd>
      <dt>Duration</dt>
      <dd>${duration(pipeline.duration)}</dd>
      ${
        t && t.count > 0
          ? html`<dt>Tests</dt>
              <dd>
                ${t.count} tests: ${t.success} passed, ${t.failed} failed, ${t.error} errors, ${t.skipped}
                skipped
              </dd>`
          : null
      }
    </dl>
    <p class="actions">
      ${ACTIVE.has(pipeline.status) ? html`<${ActionButton} label="Cancel pipeline" path=${`${base}/cancel`} onDone=${reload} danger />` : null}
      ${['failed', 'canceled'].includes(pipeline.status) ? html`<${ActionButton} label="Retry pipeline" path=${`${base}/retry`} onDone=${reload} />` : null}
    </p>
    <${JobColumns} jobs=${[...data.jobs, ...data.bridges]} projectId=${projectId} reload=${reload} />
    <${PipelineEnvironments} projectId=${projectId} pipelineId=${pipelineId} />`;
}
