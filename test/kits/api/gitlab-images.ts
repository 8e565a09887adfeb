/**
 * The job's image and services in the full shapes GitLab sends (docs of `JobImage`): every field,
 * null or empty where the job sets none. Pass what the job does set in `set`.
 */
import type { JobImage } from '../../../src/api/runner-api.js';

/** The image `name` as GitLab sends it. */
export function gitlabImage(name: string, set: Partial<JobImage> = {}): JobImage {
  return { name, entrypoint: null, ports: [], executor_opts: {}, pull_policy: null, ...set };
}

/** The service `name` as GitLab sends it: the image's fields, and alias, command and variables. */
export function gitlabService(name: string, set: Partial<JobImage> = {}): JobImage {
  return { ...gitlabImage(name), alias: null, command: null, variables: [], ...set };
}
