/**
 * Image pulls by policy: each policy is tried in order (`always` pulls; `if-not-present` uses a local
 * image or pulls; `never` needs a local image); the next policy is tried only when one fails. A
 * failure names the image and why.
 */
import type Docker from 'dockerode';

import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import type { JobOutput } from '../executor.js';
import type { RegistryAuth } from './auth.js';
import type { PullPolicy } from './docker-config.js';
import { imagePresent, pullImage } from './docker-client.js';
import type { DockerMetrics } from './metrics.js';

/** A pull that failed for every policy; its message is the job's failure message. */
export class ImagePullError extends Error {
  readonly failureReason = 'image_pull_failure';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImagePullError';
  }
}

export interface PullRequest {
  image: string;
  policies: readonly PullPolicy[];
  auth: { auth: RegistryAuth; source: string } | null;
  platform?: string;
}

export interface PullDeps {
  docker: Docker;
  clock: Clock;
  metrics: DockerMetrics;
  output: JobOutput;
}

async function tryPolicy(deps: PullDeps, request: PullRequest, policy: PullPolicy): Promise<void> {
  const { docker, output } = deps;
  if (policy !== 'always' && (await imagePresent(docker, request.image))) {
    output.write(`Using locally found image version due to "${policy}" pull policy\n`);
    return;
  }
  if (policy === 'never') {
    throw new Error(`the image is not present on the Docker Engine and the pull policy is "never"`);
  }
  output.write(`Pulling docker image ${request.image} ...\n`);
  if (request.auth) output.write(`Authenticating with credentials from ${request.auth.source}\n`);
  await pullImage(docker, request.image, request.auth?.auth ?? null, request.platform);
}

/** Makes `image` available by its policies; throws ImagePullError naming the image and every reason. */
export async function ensureImage(deps: PullDeps, request: PullRequest): Promise<void> {
  const started = deps.clock.monotonic();
  const reasons: string[] = [];
  for (const policy of request.policies) {
    try {
      await tryPolicy(deps, request, policy);
      deps.metrics.pullDuration.observe({ result: 'success' }, (deps.clock.monotonic() - started) / 1000);
      return;
    } catch (err) {
      reasons.push(`${policy}: ${errorMessage(err)}`);
      deps.output.write(
        `\x1b[0;33mWARNING: Failed to pull image ${request.image} with policy "${policy}": ${errorMessage(err)}\x1b[0;m\n`,
      );
    }
  }
  deps.metrics.pullDuration.observe({ result: 'failure' }, (deps.clock.monotonic() - started) / 1000);
  throw new ImagePullError(
    `failed to pull image "${request.image}" with specified policies [${request.policies.join(' ')}]: ${reasons.join('; ')}`,
  );
}
