/** The pipeline's jobs in columns: by stage, or by `needs` ("Job dependencies") with lines. */
import { useRef, useState } from 'preact/hooks';

import { html } from '../html.js';
import { dependencyColumns, hasNeeds, needEdges } from '../needs.js';
import type { Job } from '../types.js';
import { JobCard } from './job-card.js';
import { NeedLines } from './need-lines.js';

function stagesOf(jobs: Job[]): [string, Job[]][] {
  const byStage = new Map<string, Job[]>();
  for (const job of [...jobs].sort((a, b) => a.id - b.id)) {
    const list = byStage.get(job.stage) ?? [];
    list.push(job);
    byStage.set(job.stage, list);
  }
  return [...byStage.entries()];
}

type View = 'stage' | 'needs';
const VIEW_KEY = 'flotilla.pipelineView';

function savedView(): View {
  return localStorage.getItem(VIEW_KEY) === 'needs' ? 'needs' : 'stage';
}

/** "Group jobs by: Stage | Job dependencies", as GitLab offers it; the choice is remembered. */
function ViewToggle({ view, setView }: { view: View; setView: (v: View) => void }) {
  const choose = (v: View) => () => {
    localStorage.setItem(VIEW_KEY, v);
    setView(v);
  };
  return html`<div class="view-toggle" role="group" aria-label="Group jobs by">
    <span class="muted">Group jobs by</span>
    <button type="button" aria-pressed=${view === 'stage'} onClick=${choose('stage')}>Stage</button>
    <button type="button" aria-pressed=${view === 'needs'} onClick=${choose('needs')}>
      Job dependencies
    </button>
  </div>`;
}

/** The jobs in columns: one per stage, or (dependencies view) by `needs` with lines between them. */
export function JobColumns({
  jobs,
  projectId,
  reload,
}: {
  jobs: Job[];
  projectId: string;
  reload: () => void;
}) {
  const [view, setView] = useState<View>(savedView);
  const container = useRef<HTMLDivElement>(null);
  const byNeeds = view === 'needs' && hasNeeds(jobs);
  const columns: [string, Job[]][] = byNeeds
    ? dependencyColumns(jobs).map((list, i) => [`Column ${i + 1}`, list])
    : stagesOf(jobs);
  return html`${hasNeeds(jobs) ? html`<${ViewToggle} view=${view} setView=${setView} />` : null}
    <div class=${byNeeds ? 'stages by-needs' : 'stages'} ref=${container}>
      ${byNeeds ? html`<${NeedLines} container=${container} edges=${needEdges(jobs)} />` : null}
      ${columns.map(
        ([title, list]) =>
          html`<section class="stage" aria-label=${byNeeds ? title : `Stage ${title}`}>
            ${byNeeds ? null : html`<h2>${title}</h2>`}
            <ul>
              ${list.map((job) => html`<${JobCard} key=${job.id} job=${job} projectId=${projectId} reload=${reload} />`)}
            </ul>
          </section>`,
      )}
    </div>`;
}
