import { parseDuration } from '../shared/duration.js';
import { checkKeys, childSite, keyError, siteError, type Site } from './report.js';
import { isMap, stringOrArray, type RawMap } from './raw.js';
import type { JobDefinition, JobWhen } from './types.js';

export const JOB_WHEN: readonly JobWhen[] = [
  'on_success',
  'on_failure',
  'always',
  'manual',
  'delayed',
  'never',
];
const RETRY_WHEN = [
  'always',
  'unknown_failure',
  'script_failure',
  'api_failure',
  'stuck_or_timeout_failure',
  'runner_system_failure',
  'runner_unsupported',
  'stale_schedule',
  'job_execution_timeout',
  'archived_failure',
  'unmet_prerequisites',
  'scheduler_failure',
  'data_integrity_failure',
];
const ONE_WEEK = 7 * 86400;

/** Seconds of a duration value, or null when it is not one. */
export function durationSeconds(value: unknown): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  try {
    const s = parseDuration(value);
    return Number.isFinite(s) && s >= 0 ? Math.round(s) : null;
  } catch {
    return null;
  }
}

export function parseWhen(site: Site, fallback: JobWhen = 'on_success'): JobWhen {
  const raw = site.map['when'];
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === 'string' && (JOB_WHEN as readonly string[]).includes(raw)) return raw as JobWhen;
  keyError(site, 'when', `config should be one of: ${JOB_WHEN.join(', ')}`);
  return fallback;
}

/** `start_in`: required for `when: delayed`, forbidden otherwise, at most one week. */
export function parseStartIn(site: Site, when: JobWhen): number | null {
  const raw = site.map['start_in'];
  if (when !== 'delayed') {
    if (raw !== undefined && raw !== null) siteError(site, 'start in must be blank', 'start_in');
    return null;
  }
  if (raw === undefined || raw === null) {
    siteError(site, "start in can't be blank");
    return null;
  }
  const seconds = durationSeconds(raw);
  if (seconds === null) keyError(site, 'start_in', 'config should be a duration');
  else if (seconds > ONE_WEEK) keyError(site, 'start_in', 'config should not exceed the limit');
  return seconds;
}

export function parseTimeout(site: Site): number | null {
  const raw = site.map['timeout'];
  if (raw === undefined || raw === null) return null;
  const seconds = durationSeconds(raw);
  if (seconds === null) keyError(site, 'timeout', 'config should be a duration');
  return seconds;
}

/** `allow_failure`: boolean or `{exit_codes}`; a manual job defaults to allowed. */
export function parseAllowFailure(site: Site, when: JobWhen): { allowFailure: boolean; exitCodes: number[] } {
  const raw = site.map['allow_failure'];
  if (raw === undefined || raw === null) return { allowFailure: when === 'manual', exitCodes: [] };
  if (typeof raw === 'boolean') return { allowFailure: raw, exitCodes: [] };
  if (isMap(raw) && Object.keys(raw).length === 1 && raw['exit_codes'] !== undefined) {
    const codes = intList(raw['exit_codes']);
    if (codes) return { allowFailure: false, exitCodes: codes };
    keyError(site, 'allow_failure', 'exit codes should be an array of integers or an integer');
    return { allowFailure: false, exitCodes: [] };
  }
  keyError(site, 'allow_failure', 'config should be a hash or a boolean value');
  return { allowFailure: false, exitCodes: [] };
}

function intList(value: unknown): number[] | null {
  const list = Array.isArray(value) ? value : [value];
  return list.every((n) => Number.isInteger(n)) ? (list as number[]) : null;
}

export function parseRetry(site: Site): JobDefinition['retry'] {
  const raw = site.map['retry'];
  const none = { max: 0, when: ['always'], exitCodes: [] };
  if (raw === undefined || raw === null) return none;
  if (typeof raw === 'number') return { ...none, max: retryMax(site, raw) };
  if (!isMap(raw)) {
    keyError(site, 'retry', 'config has to be either an integer or a hash');
    return none;
  }
  return parseRetryHash(childSite(site, 'retry', raw), raw);
}

function retryMax(site: Site, max: unknown): number {
  if (Number.isInteger(max) && (max as number) >= 0 && (max as number) <= 2) return max as number;
  keyError(site, 'retry', 'config must be greater than or equal to 0 and less than or equal to 2');
  return 0;
}

function parseRetryHash(site: Site, raw: RawMap): JobDefinition['retry'] {
  checkKeys(site, ['max', 'when', 'exit_codes']);
  const max = raw['max'] === undefined ? 0 : retryMax(site, raw['max']);
  const when = raw['when'] === undefined ? ['always'] : stringOrArray(raw['when']);
  if (!when || !when.every((w) => RETRY_WHEN.includes(w)))
    keyError(site, 'when', `config should be one of: ${RETRY_WHEN.join(', ')}`);
  const codes = raw['exit_codes'] === undefined ? [] : intList(raw['exit_codes']);
  if (!codes) keyError(site, 'exit_codes', 'config should be an array of integers or an integer');
  return { max, when: when ?? ['always'], exitCodes: codes ?? [] };
}
