/** `environment:` of a job, and GitLab's cross-job check of `on_stop`. */
import { addError, type Diagnostics } from './diagnostics.js';
import { durationSeconds } from './job-flow.js';
import { keyPositionOf } from './positions.js';
import { checkKeys, childSite, keyError, type Site } from './report.js';
import { isMap } from './raw.js';
import type { EnvironmentDefinition, JobDefinition } from './types.js';

const ENV_ACTIONS = ['start', 'prepare', 'stop', 'verify', 'access'];
const ENV_TIERS = ['production', 'staging', 'testing', 'development', 'other'];
const ENV_KEYS = ['name', 'url', 'action', 'on_stop', 'auto_stop_in', 'kubernetes', 'deployment_tier'];

const plain = (name: string): EnvironmentDefinition => ({
  name,
  url: null,
  action: 'start',
  deploymentTier: null,
  onStop: null,
  autoStopInSeconds: null,
});

export function parseEnvironment(site: Site): EnvironmentDefinition | null {
  const raw = site.map['environment'];
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') return plain(raw);
  if (!isMap(raw)) {
    keyError(site, 'environment', 'config should be a hash or a string');
    return null;
  }
  const env = childSite(site, 'environment', raw);
  checkKeys(env, ENV_KEYS);
  if (typeof raw['name'] !== 'string') keyError(env, 'name', 'config should be a string');
  if (raw['kubernetes'] !== undefined) keyError(env, 'kubernetes', 'is not supported by this coordinator');
  return {
    ...plain(String(raw['name'] ?? '')),
    url: optionalString(env, 'url'),
    action: oneOf(env, 'action', ENV_ACTIONS) ?? 'start',
    deploymentTier: oneOf(env, 'deployment_tier', ENV_TIERS),
    onStop: optionalString(env, 'on_stop'),
    autoStopInSeconds: autoStopIn(env),
  };
}

function optionalString(env: Site, key: string): string | null {
  const value = env.map[key];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  keyError(env, key, 'config should be a string');
  return null;
}

function oneOf(env: Site, key: string, allowed: string[]): string | null {
  const value = optionalString(env, key);
  if (value === null || allowed.includes(value)) return value;
  keyError(env, key, `config should be ${allowed.join(', ')}`);
  return null;
}

function autoStopIn(env: Site): number | null {
  const value = env.map['auto_stop_in'];
  if (value === undefined || value === null || value === 'never') return null;
  const seconds = durationSeconds(value);
  if (seconds === null) keyError(env, 'auto_stop_in', 'config should be a duration (e.g. 1 day) or never');
  return seconds;
}

/**
 * GitLab's check of `environment:on_stop` over every job of the file (before rules): the stop job
 * must exist, have an environment of the same name, and `action: stop`.
 */
export function checkOnStop(jobs: readonly { def: JobDefinition; site: Site }[], diag: Diagnostics): void {
  const byName = new Map(jobs.map((j) => [j.def.name, j.def]));
  for (const { def, site } of jobs) {
    const onStop = def.environment?.onStop;
    if (!def.environment || !onStop) continue;
    const problem = onStopProblem(def.environment, byName.get(onStop));
    if (!problem) continue;
    const path = `jobs:${def.name}:environment:on_stop`;
    addError(
      diag,
      path,
      `${def.name} job: on_stop job ${onStop} ${problem}`,
      keyPositionOf(site.map, 'environment'),
    );
  }
}

function onStopProblem(env: EnvironmentDefinition, stopJob: JobDefinition | undefined): string | null {
  if (!stopJob) return 'is not defined';
  if (!stopJob.environment) return 'does not have environment defined';
  if (stopJob.environment.name !== env.name) return 'have different environment name';
  if (stopJob.environment.action !== 'stop') return 'needs to have action stop defined';
  return null;
}
