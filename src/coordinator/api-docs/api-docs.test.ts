import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

import { renderApiDocs, routeShape } from './render.js';
import { renderCurrentApiDocs } from './route-table.js';

describe('docs/api.md rendering', () => {
  it('matches routes to documented endpoints whatever the parameter names', () => {
    expect(routeShape('/projects/:id/jobs/:job_id/artifacts/*')).toBe('/projects/{}/jobs/{}/artifacts/{}');
    expect(routeShape('/projects/:id/jobs/:job_id/artifacts/*artifact_path')).toBe(
      '/projects/{}/jobs/{}/artifacts/{}',
    );
    const text = renderApiDocs([
      { method: 'GET', url: '/api/v4/projects/:project/pipelines/:pid' },
      { method: 'GET', url: '/api/v4/projects/:id/repository/files/:path' },
      { method: 'GET', url: '/-/health' },
    ]);
    expect(text).toContain('| GET | `/projects/:id/pipelines/:pipeline_id` | implemented |');
    expect(text).toContain('| HEAD | `/projects/:id/repository/files/:file_path` | implemented |');
    expect(text).toContain('| DELETE | `/projects/:id/pipelines/:pipeline_id` | not yet |');
    expect(text).toContain('| GET | `/-/health` |');
  });
});

describe('docs/api.md', () => {
  it('is the rendering of the route table (regenerate with npm run docs:api)', async () => {
    const onDisk = await readFile(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(await renderCurrentApiDocs());
  });
});
