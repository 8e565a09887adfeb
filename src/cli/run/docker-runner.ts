/**
 * The docker executor of `flotilla run`'s throwaway runner: jobs run on per-job networks (services
 * answer by alias, as on a registered runner) and reach the embedded coordinator on loopback through
 * the executor's coordinator forwarder; after the run, every object of that runner (its per-project
 * cache volumes included) is removed from the engine.
 */
import { errorMessage } from '../../shared/errors.js';
import { shortToken } from '../../runner/version.js';
import { warn } from '../output.js';

/** `[runners.docker]` of the throwaway runner. */
export function runDockerConfig(image: string): Record<string, unknown> {
  return { image, pull_policy: ['if-not-present'], coordinator_forwarding: 'auto' };
}

/** Removes what the throwaway runner `token` left on the engine; warns (never throws) when it cannot. */
export async function removeRunDockerObjects(token: string): Promise<void> {
  try {
    const { connectDocker } = await import('../../executors/docker/docker-client.js');
    const { dockerConfigSchema } = await import('../../executors/docker/docker-config.js');
    const { cleanupRunner } = await import('../../executors/docker/cleanup.js');
    const { docker } = connectDocker(dockerConfigSchema.parse({}), process.env);
    const report = await cleanupRunner(docker, shortToken(token));
    for (const error of report.errors) warn(`docker cleanup: ${error}`);
  } catch (err) {
    warn(`docker cleanup failed: ${errorMessage(err)}`);
  }
}
