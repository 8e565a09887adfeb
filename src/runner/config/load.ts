/**
 * config.toml → validated, defaulted, deep-frozen `Config`. A bad value is an error naming its key
 * path and what is allowed; an unknown key is a warning naming the key; a TOML syntax error names
 * the line and column.
 */
import { readFile } from 'node:fs/promises';

import { parse as parseToml, TomlError } from 'smol-toml';
import type { ZodIssue, ZodType, ZodTypeDef } from 'zod';

import { FlotillaError } from '../../shared/errors.js';
import {
  configSchema,
  runnerConfigSchema,
  UNSUPPORTED_GLOBAL_KEYS,
  UNSUPPORTED_RUNNER_KEYS,
  type Config,
} from './schema.js';

export interface ConfigIssue {
  /** Key path such as `runners[0].limit`. */
  path: string;
  message: string;
}

export interface LoadedConfig {
  config: Config;
  warnings: ConfigIssue[];
}

/** Keys whose offending values are never echoed in messages. */
const SECRET_KEYS = new Set(['token', 'AccessKey', 'SecretKey', 'SessionToken']);

export function formatKeyPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json;
}

function issueToConfigIssue(issue: ZodIssue, input: unknown): ConfigIssue {
  const path = formatKeyPath(issue.path);
  const value = valueAt(input, issue.path);
  if (value === undefined) return { path, message: issue.code === 'custom' ? issue.message : 'is required' };
  const last = issue.path[issue.path.length - 1];
  const secret = typeof last === 'string' && SECRET_KEYS.has(last);
  return { path, message: secret ? issue.message : `${issue.message}, got ${describeValue(value)}` };
}

function unknownKeyWarnings(input: unknown): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  const check = (
    obj: unknown,
    prefix: (string | number)[],
    known: object,
    unsupported: readonly string[],
  ): void => {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;
    for (const key of Object.keys(obj)) {
      if (key in known) continue;
      const path = formatKeyPath([...prefix, key]);
      const message = unsupported.includes(key)
        ? 'is a gitlab-runner setting flotilla does not support yet; ignored'
        : 'unknown key; ignored';
      warnings.push({ path, message });
    }
  };
  check(input, [], configSchema.shape, UNSUPPORTED_GLOBAL_KEYS);
  const runners = valueAt(input, ['runners']);
  if (Array.isArray(runners)) {
    runners.forEach((r, i) => check(r, ['runners', i], runnerConfigSchema.shape, UNSUPPORTED_RUNNER_KEYS));
  }
  return warnings;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function invalid(source: string, issues: ConfigIssue[]): FlotillaError {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  return new FlotillaError('FLO_ERR_CONFIG_INVALID', `${source} is invalid:\n${lines}`, {
    details: { source, issues },
  });
}

/** Validates an already-parsed object (TOML table or an in-process literal). */
export function validateConfig(input: unknown, source = 'config'): LoadedConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    throw invalid(
      source,
      result.error.issues.map((issue) => issueToConfigIssue(issue, input)),
    );
  }
  return { config: deepFreeze(result.data) as Config, warnings: unknownKeyWarnings(input) };
}

/** A section of a parsed config.toml (at `at`, e.g. `runners[1].autoscaler`) validated alone. */
export function validateSection<T>(
  schema: ZodType<T, ZodTypeDef, unknown>,
  input: unknown,
  at: readonly (string | number)[],
  source = 'config',
): T {
  const result = schema.safeParse(valueAt(input, at) ?? {});
  if (result.success) return result.data;
  const whole = (issue: ZodIssue): ZodIssue => ({ ...issue, path: [...at, ...issue.path] });
  throw invalid(
    source,
    result.error.issues.map((issue) => issueToConfigIssue(whole(issue), input)),
  );
}

/** Parses TOML text into plain tables; syntax errors carry line and column. */
export function parseTomlText(text: string, source = 'config.toml'): unknown {
  try {
    return parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const message = err.message.split('\n')[0] ?? err.message;
      throw new FlotillaError(
        'FLO_ERR_CONFIG_INVALID',
        `${source}:${err.line}:${err.column}: TOML syntax error: ${message}`,
        { cause: err, details: { source, line: err.line, column: err.column } },
      );
    }
    throw err;
  }
}

/** Parses and validates TOML text. */
export function parseConfigText(text: string, source = 'config.toml'): LoadedConfig {
  return validateConfig(parseTomlText(text, source), source);
}

/** A config file's text; a file that cannot be read is a config error (its cause kept). */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new FlotillaError('FLO_ERR_CONFIG_INVALID', `cannot read ${path}`, { cause: err });
  }
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  return parseConfigText(await readConfigText(path), path);
}
