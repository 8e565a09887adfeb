/**
 * What a change of branches or tags triggers, whether it came from `git push` or from the
 * repository API (commits, files, new branches and tags), as in GitLab: the project is touched
 * and every created or moved ref gets a `push` pipeline for its new commit.
 */
import { errorMessage } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type { RefUpdate } from '../git/git-host.js';
import type { PipelineRecord, ProjectRecord } from '../store/store.js';

function refName(ref: string): string | null {
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  if (ref.startsWith('refs/tags/')) return ref.slice('refs/tags/'.length);
  return null;
}

/** Creates the pipelines for `updates`; answers the pipelines created (failures are logged). */
export async function onRefsUpdated(
  ctx: CoordinatorContext,
  project: ProjectRecord,
  userId: number,
  updates: RefUpdate[],
): Promise<PipelineRecord[]> {
  await ctx.store.touchProject(project.id, ctx.clock.now());
  const created: PipelineRecord[] = [];
  const fullPath = `${project.namespacePath}/${project.path}`;
  for (const u of updates) {
    const ref = refName(u.ref);
    if (!ref || /^0+$/.test(u.after)) continue;
    try {
      // An annotated tag's ref holds the tag object; pipelines run on the commit it points at.
      const sha = u.ref.startsWith('refs/tags/')
        ? ((await ctx.git.resolveRef(fullPath, u.after)) ?? u.after)
        : u.after;
      const pipeline = await ctx.scheduler.createPipeline({
        project,
        ref,
        sha,
        beforeSha: u.before,
        source: 'push',
        variables: [],
        userId,
      });
      ctx.metrics.pipelinesCreated.inc({ source: 'push', status: pipeline.status });
      created.push(pipeline);
    } catch (err) {
      ctx.logger.info({ projectId: project.id, ref, err: errorMessage(err) }, 'no pipeline created for push');
    }
  }
  return created;
}
