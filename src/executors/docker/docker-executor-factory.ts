/** The factory the CLI registers for `executor = "docker"` (one per `[[runners]]` entry). */
import type { Registry } from 'prom-client';

import type { Clock } from '../../shared/clock.js';
import { configIssueLines } from '../../shared/config-issues.js';
import { FlotillaError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { ExecutorFactory } from '../executor.js';
import { connectDocker, type DockerEndpoint } from './docker-client.js';
import { dockerConfigSchema, type DockerConfig, type DockerConfigInput } from './docker-config.js';
import { createDockerExecutor } from './docker-executor.js';
import { dockerMetrics } from './metrics.js';
import { createSparePool } from './spare-helper.js';

export const DOCKER_FEATURES: Readonly<Record<string, boolean>> = Object.freeze({
  variables: true,
  image: true,
  services: true,
  artifacts: true,
  upload_multiple_artifacts: true,
  artifacts_exclude: true,
  cache: true,
  fallback_cache_keys: true,
  refspecs: true,
  masking: true,
  raw_variables: true,
  multi_build_steps: true,
  return_exit_code: true,
  service_variables: true,
  service_multiple_aliases: true,
  image_executor_opts: true,
  service_executor_opts: true,
});

/** The helper image of a flotilla version, as images/helper/build.sh tags it. */
export function defaultHelperImage(version: string): string {
  return `flotilla-helper:${version}`;
}

export interface DockerExecutorFactoryOptions {
  /** The `[runners.docker]` table (parsed or raw; raw input is validated here). */
  config: DockerConfig | DockerConfigInput;
  logger: Logger;
  registry: Registry;
  clock: Clock;
  /** The flotilla version, for the default helper image `flotilla-helper:<version>`. */
  version: string;
  /** The manager's environment (DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_AUTH_CONFIG); default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * After each job, create and start the helper of the next job of the same project ahead of time
   * (spare-helper.ts). The owner then calls `close` when it stops or drops the factory.
   */
  spareHelpers?: boolean;
}

export interface DockerExecutorFactory extends ExecutorFactory {
  /** Removes the spare helper, if any, and makes no more. */
  close(): Promise<void>;
}

export function createDockerExecutorFactory(options: DockerExecutorFactoryOptions): DockerExecutorFactory {
  const parsed = dockerConfigSchema.safeParse(options.config);
  if (!parsed.success) {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `[runners.docker] (or the engine a machine gave):\n${configIssueLines(parsed.error, options.config).join('\n')}`,
      { cause: parsed.error },
    );
  }
  const config: DockerConfig = parsed.data;
  const env = options.env ?? process.env;
  const metrics = dockerMetrics(options.registry);
  let endpoint: DockerEndpoint | null = null;
  const connect = (): DockerEndpoint => (endpoint ??= connectDocker(config, env));
  const spares = options.spareHelpers ? createSparePool(options.logger) : undefined;
  const deps = {
    spares,
    config,
    connect,
    env,
    metrics,
    clock: options.clock,
    logger: options.logger,
    helperImage: config.helper_image ?? defaultHelperImage(options.version),
  };
  return {
    name: 'docker',
    shell: 'bash',
    features: DOCKER_FEATURES,
    create: (job) => createDockerExecutor(job, deps),
    close: async () => spares?.close(),
  } satisfies DockerExecutorFactory;
}
