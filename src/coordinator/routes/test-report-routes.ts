/**
 * REST: a pipeline's unit test report from its jobs' `artifacts:reports:junit`, in GitLab's shapes
 * (`GET /projects/:id/pipelines/:pipeline_id/test_report` and `.../test_report_summary`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { CoordinatorContext } from '../context.js';
import {
  buildTestReport,
  ParsedReportCache,
  type JunitSource,
  type TestReport,
} from '../reports/test-report.js';
import { loadPipeline } from './pipeline-routes.js';
import { auth, resolveProject } from './project-routes.js';
import { presentTestReport, presentTestReportSummary } from './test-report-presenters.js';

const JUNIT = 'junit';

async function readAll(ctx: CoordinatorContext, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.artifacts.read(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function reportOf(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  cache: ParsedReportCache,
): Promise<TestReport> {
  await auth(ctx, request);
  const params = request.params as Record<string, string>;
  const project = await resolveProject(ctx, params['id'], request);
  const pipeline = await loadPipeline(ctx, project, params['pipeline_id']);
  const { items: jobs } = await ctx.store.listJobs({ pipelineId: pipeline.id });
  const sources: JunitSource[] = [];
  for (const job of jobs) {
    for (const artifact of await ctx.store.listArtifacts(job.id)) {
      if (artifact.fileType !== JUNIT) continue;
      sources.push({ job, artifact, read: () => readAll(ctx, artifact.storageKey) });
    }
  }
  return buildTestReport(sources, cache);
}

export function registerTestReportRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const cache = new ParsedReportCache();
  app.get('/api/v4/projects/:id/pipelines/:pipeline_id/test_report', async (request) =>
    presentTestReport(await reportOf(ctx, request, cache)),
  );
  app.get('/api/v4/projects/:id/pipelines/:pipeline_id/test_report_summary', async (request) =>
    presentTestReportSummary(await reportOf(ctx, request, cache)),
  );
}
