/** Identity the runner manager reports to its coordinator (User-Agent, `info`, trace header). */
import { arch, platform } from 'node:os';

import type { RunnerInfo } from '../api/runner-api.js';

export const FLOTILLA_VERSION = '0.1.0';
export const FLOTILLA_REVISION = 'unknown';

/** Features every job gets from the manager itself, whatever the executor (gitlab-runner's network client set). */
export const CLIENT_FEATURES: Readonly<Record<string, boolean>> = Object.freeze({
  trace_reset: true,
  trace_checksum: true,
  trace_size: true,
  cancelable: true,
  cancel_gracefully: true,
  two_phase_job_commit: true,
});

export interface RunnerIdentity {
  version: string;
  executor: string;
  shell: string;
  features: Readonly<Record<string, boolean>>;
}

export function goArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

export function runnerInfo(identity: RunnerIdentity): RunnerInfo {
  return {
    name: 'flotilla',
    version: identity.version,
    revision: FLOTILLA_REVISION,
    platform: platform(),
    architecture: goArch(),
    executor: identity.executor,
    shell: identity.shell,
    features: { ...CLIENT_FEATURES, ...identity.features },
    config: { gpus: '' },
  };
}

export function userAgent(version: string): string {
  return `flotilla ${version} (${FLOTILLA_REVISION}; node ${process.versions.node}; ${platform()}/${goArch()})`;
}

/** gitlab-runner's short token: known prefixes stripped, first 9 characters. */
export function shortToken(token: string): string {
  const stripped = token.replace(/^(glrtr-|glrt-)/, '').replace(/^t\d_/, '');
  return stripped.slice(0, 9);
}
