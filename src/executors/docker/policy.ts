/**
 * Decisions taken before anything starts: which images a job may use (allow lists), with which pull
 * policies, and whether privileged mode applies. Each refusal carries the reason shown in the job log.
 */
import type { JobImage } from '../../api/runner-api.js';
import type { DockerConfig, PullPolicy } from './docker-config.js';
import { PULL_POLICIES } from './docker-config.js';
import { imageAllowed } from './image-names.js';

export type Decision<T> = { ok: true; value: T } | { ok: false; reason: string };

function refuse<T>(reason: string): Decision<T> {
  return { ok: false, reason };
}

function listText(items: readonly string[]): string {
  return items.map((i) => `\n- ${i}`).join('');
}

/** The job image (the payload's or the runner's default), if it is allowed. */
export function chooseJobImage(image: JobImage | null, config: DockerConfig): Decision<string> {
  const name = image?.name || config.image;
  if (!name) return refuse('no image: the job names none and [runners.docker] image is not set');
  if (!imageAllowed(name, config.allowed_images)) {
    return refuse(
      `The "${name}" image is not present on the list of allowed images:${listText(config.allowed_images)}\nPlease check the runner's configuration ([runners.docker] allowed_images).`,
    );
  }
  return { ok: true, value: name };
}

/** Refuses the first service whose image is not allowed. */
export function checkServices(services: readonly JobImage[], config: DockerConfig): Decision<true> {
  for (const service of services) {
    if (!imageAllowed(service.name, config.allowed_services)) {
      return refuse(
        `The "${service.name}" service is not present on the list of allowed services:${listText(config.allowed_services)}\nPlease check the runner's configuration ([runners.docker] allowed_services).`,
      );
    }
  }
  return { ok: true, value: true };
}

function isPolicy(value: string): value is PullPolicy {
  return (PULL_POLICIES as readonly string[]).includes(value);
}

/**
 * The pull policies for one image, as gitlab-runner decides them: the job's `pull_policy` when it
 * sets one, else the runner's; each must be in `allowed_pull_policies` (or, when that is empty, in
 * the runner's `pull_policy`).
 */
export function resolvePullPolicies(
  jobPolicies: readonly string[] | null | undefined,
  config: DockerConfig,
): Decision<PullPolicy[]> {
  const allowed = config.allowed_pull_policies.length > 0 ? config.allowed_pull_policies : config.pull_policy;
  // GitLab sends `pull_policy: null` when the job sets none.
  const fromJob = jobPolicies !== null && jobPolicies !== undefined && jobPolicies.length > 0;
  const wanted = fromJob ? jobPolicies : config.pull_policy;
  const unknown = wanted.filter((p) => !isPolicy(p));
  if (unknown.length > 0)
    return refuse(`unknown pull_policy ${unknown.join(', ')}; use always, if-not-present or never`);
  const permitted = wanted.filter((p): p is PullPolicy => isPolicy(p) && allowed.includes(p));
  if (permitted.length === 0 || (fromJob && permitted.length !== wanted.length)) {
    const where = fromJob ? 'GitLab pipeline config' : 'Runner config';
    return refuse(
      `pull_policy ([${wanted.join(' ')}]) defined in ${where} is not one of the allowed_pull_policies ([${allowed.join(' ')}])`,
    );
  }
  return { ok: true, value: permitted };
}
