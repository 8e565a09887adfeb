/**
 * `flotilla run`'s push into its embedded coordinator, without git smart HTTP: the coordinator's
 * repository borrows the snapshot's objects from the source repository (git alternates), the branch
 * is moved in place, and the push is reported to the coordinator as a `git push` would be (a `push`
 * pipeline for the commit). A shallow source repository, whose history cannot be borrowed as it
 * is, goes through the HTTP push instead (the caller decides).
 */
import { repositoryDir } from '../../coordinator/git/repo-paths.js';
import { onRefsUpdated } from '../../coordinator/routes/push-pipelines.js';
import type { LocalRepositoryFor } from '../../executors/shell/shared-sources.js';
import { FlotillaError } from '../../shared/errors.js';
import type { RunningCoordinator } from '../start-coordinator.js';
import type { Snapshot } from './snapshot.js';

/** True when the snapshot can be pushed to an embedded coordinator in place. */
export function canPushLocally(snapshot: Snapshot): boolean {
  return !snapshot.shallow && snapshot.objectsDir.startsWith('/');
}

/** Pushes the snapshot to the project's branch; answers the id of the push pipeline it created. */
export async function pushLocally(
  running: RunningCoordinator,
  projectId: number,
  snapshot: Snapshot,
): Promise<number> {
  const project = await running.store.getProject(projectId);
  if (!project) throw new FlotillaError('FLO_ERR_NOT_FOUND', `project ${projectId} does not exist`);
  const update = await running.git.receiveLocal(`${project.namespacePath}/${project.path}`, {
    objectsDir: snapshot.objectsDir,
    ref: `refs/heads/${snapshot.branch}`,
    sha: snapshot.sha,
  });
  // The root user pushes, as the HTTP push with the root token does.
  const [pipeline] = await onRefsUpdated(running.coordinator.context, project, 1, [update]);
  if (!pipeline)
    throw new FlotillaError('FLO_ERR_GIT', `no pipeline was created for ${snapshot.branch} (see the log)`);
  return pipeline.id;
}

/**
 * Maps a job's `repo_url` on the embedded coordinator to its repository directory, so that the
 * runner's shared source store fetches over git's local transport (see shell/shared-sources.ts).
 * Other URLs (and malformed paths) answer undefined: they are fetched as given.
 */
export function localRepositoryFor(coordinatorUrl: string, repositoriesDir: string): LocalRepositoryFor {
  const base = new URL(coordinatorUrl);
  return (repoUrl) => {
    try {
      const url = new URL(repoUrl);
      if (url.origin !== base.origin || !url.pathname.endsWith('.git')) return undefined;
      const fullPath = decodeURIComponent(url.pathname).replace(/^\/+/, '').slice(0, -'.git'.length);
      return repositoryDir(repositoriesDir, fullPath);
    } catch {
      return undefined;
    }
  };
}
