/**
 * The runner manager's config.toml schema: the single source of truth for key names (gitlab-runner's),
 * defaults, allowed values and documentation (`.describe()` on every key). Only keys flotilla
 * implements are declared; gitlab-runner keys it does not implement yet are listed in
 * `UNSUPPORTED_GLOBAL_KEYS` / `UNSUPPORTED_RUNNER_KEYS` and produce warnings, never errors.
 */
import { z } from 'zod';

import { parseDuration } from '../../shared/duration.js';
import {
  checkRequiredTables,
  executorKeyDescription,
  executorTables,
  sharedExecutorTables,
  SUPPORTED_EXECUTORS,
} from './executors.js';

export { SUPPORTED_EXECUTORS };
export const SUPPORTED_SHELLS = ['bash'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal', 'panic'] as const;
export const LOG_FORMATS = ['runner', 'text', 'json'] as const;

const NON_NEG_INT = 'must be a non-negative integer';
const POS_INT = 'must be a positive integer';

function nonNegativeInt(): z.ZodNumber {
  return z.number({ invalid_type_error: NON_NEG_INT }).int(NON_NEG_INT).min(0, NON_NEG_INT);
}

function positiveInt(): z.ZodNumber {
  return z.number({ invalid_type_error: POS_INT }).int(POS_INT).min(1, POS_INT);
}

function oneOf<T extends readonly [string, ...string[]]>(values: T): z.ZodEnum<[T[number], ...T[number][]]> {
  const message = `must be one of: ${values.join(', ')}`;
  return z.enum(values as unknown as [T[number], ...T[number][]], {
    errorMap: () => ({ message }),
  });
}

function text(what = 'a string'): z.ZodString {
  return z.string({ invalid_type_error: `must be ${what}` });
}

/** Seconds, given as an integer (gitlab-runner) or a duration string such as "30s" or "5m". */
function seconds(): z.ZodType<number, z.ZodTypeDef, unknown> {
  const message = 'must be a non-negative number of seconds or a duration such as "30s"';
  return z.union([z.number(), z.string()], { errorMap: () => ({ message }) }).transform((value, ctx) => {
    try {
      const parsed = parseDuration(value);
      if (Number.isFinite(parsed) && parsed >= 0) return parsed;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    return z.NEVER;
  });
}

const ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*=/;

const TIMESTAMP = z.union([z.string(), z.date()], {
  errorMap: () => ({ message: 'must be an RFC 3339 date-time' }),
});

export const runnerConfigSchema = z.object({
  name: text()
    .default('')
    .describe('A description of this runner entry, shown in logs and metrics (runner_name).'),
  url: text('a URL')
    .url('must be an http(s) URL such as "https://gitlab.example.com/"')
    .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL such as "https://gitlab.example.com/"')
    .describe('The coordinator (GitLab) URL; a trailing "/ci" is stripped.'),
  id: nonNegativeInt().optional().describe('The runner id returned at registration (informational).'),
  token: text()
    .min(1, 'must not be empty')
    .describe('The runner authentication token (glrt-...), sent as RUNNER-TOKEN and in request bodies.'),
  token_obtained_at: TIMESTAMP.optional().describe('When the token was obtained (written by register).'),
  token_expires_at: TIMESTAMP.optional().describe('When the token expires (written by register).'),
  executor: oneOf(SUPPORTED_EXECUTORS).describe(executorKeyDescription),
  ...executorTables,
  shell: oneOf(SUPPORTED_SHELLS).default('bash').describe('The shell that runs job scripts.'),
  limit: nonNegativeInt()
    .default(0)
    .describe('Most jobs this entry runs at once; 0 means no limit beyond concurrent.'),
  request_concurrency: positiveInt()
    .default(1)
    .describe('Most job requests (long polls) this entry has in flight at once.'),
  output_limit: positiveInt().default(4096).describe('Largest job log, in KiB; output beyond it is dropped.'),
  builds_dir: text('a directory path')
    .optional()
    .describe('Where job sources are checked out; default "builds" next to config.toml.'),
  cache_dir: text('a directory path')
    .optional()
    .describe('Where local caches live; default "cache" next to config.toml.'),
  ...sharedExecutorTables,
  feature_flags: z
    .record(z.boolean({ invalid_type_error: 'must be true or false' }), {
      invalid_type_error: 'must be a table of NAME = true|false',
    })
    .default({})
    .describe(
      "[runners.feature_flags]: gitlab-runner feature flags, NAME = true or false; they win over the job's variables. Flotilla reads FF_TIMESTAMPS (default false, unlike gitlab-runner 18); other names are accepted and have no effect.",
    ),
  environment: z
    .array(text('a "NAME=value" string').regex(ENV_ENTRY, 'must look like "NAME=value"'), {
      invalid_type_error: 'must be an array of "NAME=value" strings',
    })
    .default([])
    .describe('Extra variables for every job, as "NAME=value" strings.'),
});

/** `[consul]`: optional registration of this manager's discovery targets in a Consul agent. */
export const consulConfigSchema = z
  .object({
    address: text('a URL')
      .regex(/^https?:\/\/[^\s/]+\/?$/, 'must look like "http://127.0.0.1:8500"')
      .default('http://127.0.0.1:8500')
      .describe("The Consul agent's HTTP API."),
    token: text().optional().describe('ACL token, sent as X-Consul-Token.'),
    service_name: text()
      .regex(/^[A-Za-z0-9-]{1,63}$/, 'must be 1 to 63 letters, digits or "-"')
      .default('flotilla')
      .describe('The Consul service name of every target; the component is a tag.'),
    interval: seconds()
      .default(30)
      .describe('Seconds between registrations; the TTL check allows 3 intervals.'),
  })
  .strict();

export type ConsulConfig = z.output<typeof consulConfigSchema>;

export const configSchema = z.object({
  concurrent: positiveInt().default(1).describe('Most jobs running at once across all [[runners]].'),
  check_interval: seconds()
    .default(3)
    .describe('Seconds between job requests of one entry (spread over the entries); 0 means 3.'),
  log_level: oneOf(LOG_LEVELS).default('info').describe('Log level; the command line wins.'),
  log_format: oneOf(LOG_FORMATS)
    .default('runner')
    .describe('Log format: runner and text are lines, json is JSON.'),
  listen_address: text('a "host:port" string')
    .regex(/^.*:\d{1,5}$/, 'must look like "host:port", e.g. "127.0.0.1:9252"')
    .optional()
    .describe('Where /metrics, /debug/jobs/list and /-/health are served; unset means off. Needs a restart.'),
  shutdown_timeout: seconds().default(30).describe('Seconds a forceful shutdown waits for jobs to report.'),
  sentry_dsn: text('a DSN URL')
    .regex(/^https?:\/\/[^@/\s]+@[^/\s]+\/\S+$/, 'must look like "https://KEY@host/PROJECT"')
    .optional()
    .describe(
      'Sentry-compatible DSN: error log lines are sent there with runner and job context, secrets masked. Reloads live.',
    ),
  consul: consulConfigSchema
    .optional()
    .describe(
      "Registers the manager and its machines' exporters (the /-/discovery/targets list) in Consul; needs listen_address. Needs a restart.",
    ),
  runners: z
    .array(runnerConfigSchema.superRefine(checkRequiredTables), {
      invalid_type_error: 'must be an array of [[runners]] tables',
    })
    .default([])
    .describe('One entry per registered runner; each polls its coordinator.'),
});

export type RunnerConfig = Readonly<z.output<typeof runnerConfigSchema>>;
export interface Config extends Readonly<Omit<z.output<typeof configSchema>, 'runners'>> {
  readonly runners: readonly RunnerConfig[];
}
/** What a caller may pass in-process (defaults are filled in). */
export type ConfigInput = z.input<typeof configSchema>;

/** gitlab-runner global keys that are valid there but not implemented here (warned, ignored). */
export const UNSUPPORTED_GLOBAL_KEYS = [
  'user',
  'connection_max_age',
  'session_server',
  'machine',
  'experimental',
  'labels',
  'shutdown_drain',
] as const;

/** gitlab-runner [[runners]] keys that are valid there but not implemented here (warned, ignored). */
export const UNSUPPORTED_RUNNER_KEYS = [
  'machine',
  'kubernetes',
  'custom',
  'ssh',
  'parallels',
  'virtualbox',
  'custom_build_dir',
  'referees',
  'artifact',
  'tls-ca-file',
  'tls-cert-file',
  'tls-key-file',
  'clone_url',
  'pre_get_sources_script',
  'post_get_sources_script',
  'pre_build_script',
  'post_build_script',
  'strict_check_interval',
  'unhealthy_requests_limit',
  'unhealthy_interval',
  'job_status_final_update_retry_limit',
  'debug_trace_disabled',
  'safe_directory_checkout',
  'clean_git_config',
  'prepare_timeout',
  'get_sources_timeout',
  'labels',
] as const;
