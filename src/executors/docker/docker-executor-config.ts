/** The docker executor's config: the `[runners.docker]` table (`docker-config.ts`). */
import { executorConfig } from '../executor-config.js';
import { dockerConfigSchema } from './docker-config.js';

export const dockerExecutorConfig = executorConfig({
  name: 'docker',
  summary: 'in containers of a Docker Engine',
  tables: {
    docker: dockerConfigSchema
      .default({})
      .describe(
        '[runners.docker]: the Docker Engine, images, services, pull policies and allow lists of the docker executor.',
      ),
  },
});
