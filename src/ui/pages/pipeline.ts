/**
 * One pipeline as GitLab draws it: a column per stage, its jobs (and trigger jobs with a link to
 * the child pipeline), actions (retry, cancel, play), and the test report summary. Refreshes
 * every two seconds while it is open.
 */
import { ActionButton } from '../actions.js';
import { get } from '../api.js';
import { usePoll } from '../hooks.js';
import { html } from '../html.js';
import { duration, StatusBadge } from '../status.js';
import type { Job, Pipeline } from '../types.js';

interface TestSummary {
  total: { count: number; success: number; failed: number; skipped: number; error: number };
}

interface PipelineView {
  pipeline: Pipeline;
  jobs: Job[];
  bridges: Job[];
  tests: TestSummary | null;
}

const ACTIVE = new Set(['created', 'pending', 'running', 'waiting_for_resource', 'preparing', 'canceling']);

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

function stagesOf(jobs: Job[]): [string, Job[]][] {
  const byStage = new Map<string, Job[]>();
  for (const job of [...jobs].sort((a, b) => a.id - b.id)) {
    const list = byStage.get(job.stage) ?? [];
    list.push(job);
    byStage.set(job.stage, list);
  }
  return [...byStage.entries()];
}

function JobCard({ job, projectId, reload }: { job: Job; projectId: string; reload: () => void }) {
  const path = `/projects/${encodeURIComponent(projectId)}/jobs/${job.id}`;
  const child = job.downstream_pipeline;
  return html`<li class="job" data-job=${job.name}>
    <${StatusBadge} status=${job.status} allowFailure=${job.allow_failure} />
    ${
      child
        ? html`<a href=${`#/projects/${child.project_id}/pipelines/${child.id}`}
            >${job.name} → child #${child.id}</a
          >`
        : html`<a href=${`#${path}`}>${job.name}</a>`
    }
    <span class="muted">${duration(job.duration)}</span>
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
    <div class="stages">
      ${stagesOf([...data.jobs, ...data.bridges]).map(
        ([stage, jobs]) =>
          html`<section class="stage" aria-label=${`Stage ${stage}`}>
            <h2>${stage}</h2>
            <ul>
              ${jobs.map((job) => html`<${JobCard} key=${job.id} job=${job} projectId=${projectId} reload=${reload} />`)}
            </ul>
          </section>`,
      )}
    </div>`;
}
