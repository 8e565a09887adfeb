/**
 * The environments a pipeline deployed to: its deployments (`GET /projects/:id/deployments`, the
 * project's 50 newest, kept when their job belongs to this pipeline), with each environment's
 * state and url and the deploying job. A deployment exists once its job has been handed to a
 * runner, so a manual deploy job not yet played shows no environment.
 */
import { get } from '../api.js';
import { usePoll } from '../hooks.js';
import { html } from '../html.js';
import { listTable } from '../list-table.js';
import { StatusBadge } from '../status.js';
import type { Deployment } from '../types.js';

const NEWEST = 50;

async function loadDeployments(projectId: string, pipelineId: string): Promise<Deployment[]> {
  const all = await get<Deployment[]>(
    `/projects/${encodeURIComponent(projectId)}/deployments?order_by=id&sort=desc&per_page=${NEWEST}`,
  );
  return all.filter((d) => String(d.deployable?.pipeline.id) === pipelineId);
}

export function PipelineEnvironments({ projectId, pipelineId }: { projectId: string; pipelineId: string }) {
  const { data } = usePoll(() => loadDeployments(projectId, pipelineId), 5000, [projectId, pipelineId]);
  if (!data || data.length === 0) return null;
  return html`<h2>Environments</h2>
    ${listTable(
      'Environments',
      ['Environment', 'Tier', 'State', 'Deployment', 'Job'],
      data.map((d) => {
        const env = d.environment;
        const job = d.deployable;
        return html`<tr key=${d.id} data-environment=${env.name}>
          <td>
            ${env.name}
            ${
              env.external_url
                ? html` <a href=${env.external_url} rel="noopener noreferrer" target="_blank"
                    >${env.external_url}</a
                  >`
                : null
            }
          </td>
          <td>${env.tier}</td>
          <td>${env.state}</td>
          <td>#${d.iid} <${StatusBadge} status=${d.status} /></td>
          <td>
            ${job ? html`<a href=${`#/projects/${encodeURIComponent(projectId)}/jobs/${job.id}`}>${job.name}</a>` : '–'}
          </td>
        </tr>`;
      }),
    )}`;
}
