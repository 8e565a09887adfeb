/**
 * What the docker executor hands the helper program (src/helper) for one predefined stage. The
 * request travels as JSON on the helper's standard input, never in argv or the environment, so the
 * job token does not show in `docker inspect` or process lists.
 */
import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import type { RemoteCache } from '../cache/remote-cache.js';
import type { JobOutcome } from '../executor.js';

export const HELPER_COMMANDS = [
  'get-sources',
  'cache-extractor',
  'cache-archiver',
  'artifacts-downloader',
  'artifacts-uploader',
] as const;
export type HelperCommand = (typeof HELPER_COMMANDS)[number];

/** Commands that take their inputs from argv only. */
export const HELPER_ARGV_COMMANDS = ['wait-for-service', 'forward', 'idle', 'serve'] as const;

export interface HelperRequest {
  payload: JobPayload;
  variables: JobVariable[];
  /** CI_PROJECT_DIR inside the containers, e.g. `/builds/group/project`. */
  projectDir: string;
  /** Scratch folder beside it (`<projectDir>.tmp`). */
  tmpDir: string;
  /** Coordinator base URL as the helper container reaches it. */
  baseUrl: string;
  /** The local cache store inside the helper (`/cache`), or null when the cache is disabled. */
  cacheDir: string | null;
  /** The job's outcome so far: which `cache:when` / `artifacts:when` entries apply. */
  outcome: JobOutcome;
  /** The distributed cache's pre-signed URLs (cache stages only), when the runner has one. */
  remoteCache?: RemoteCache | undefined;
}

/** The helper program's path inside the helper image. */
export const HELPER_ENTRY = '/opt/flotilla/bin/flotilla-helper.js';

/** argv of a helper container process running `command`. */
export function helperArgv(
  command: HelperCommand | (typeof HELPER_ARGV_COMMANDS)[number],
  args: readonly string[] = [],
): string[] {
  return ['node', HELPER_ENTRY, command, ...args];
}
