/**
 * Which executor `flotilla run` uses: `--executor auto` (the default) picks docker when a Docker
 * Engine answers and the helper image is there, else shell, and says why.
 */
import { FLOTILLA_VERSION } from '../../runner/version.js';
import { errorMessage } from '../../shared/errors.js';

export interface ExecutorChoice {
  executor: 'shell' | 'docker';
  reason: string;
}

export const HELPER_IMAGE = `flotilla-helper:${FLOTILLA_VERSION}`;

export async function chooseExecutor(requested: string): Promise<ExecutorChoice> {
  if (requested === 'shell') return { executor: 'shell', reason: 'as asked' };
  try {
    // Loaded only when a Docker Engine may be used: dockerode alone takes a noticeable part of startup.
    const { connectDocker, pingEngine } = await import('../../executors/docker/docker-client.js');
    const { dockerConfigSchema } = await import('../../executors/docker/docker-config.js');
    const endpoint = connectDocker(dockerConfigSchema.parse({}), process.env);
    await pingEngine(endpoint, 3000);
    const images = await endpoint.docker.listImages({ filters: { reference: [HELPER_IMAGE] } });
    if (images.length === 0) {
      const why = `the Docker Engine answers but the helper image ${HELPER_IMAGE} is missing (build it with scripts/docker-env.sh)`;
      if (requested === 'docker') return { executor: 'docker', reason: why };
      return { executor: 'shell', reason: why };
    }
    return {
      executor: 'docker',
      reason: requested === 'docker' ? 'as asked' : 'a Docker Engine is available',
    };
  } catch (err) {
    const why = `no Docker Engine answered (${errorMessage(err)})`;
    return { executor: requested === 'docker' ? 'docker' : 'shell', reason: why };
  }
}
