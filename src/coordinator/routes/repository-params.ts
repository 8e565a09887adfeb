/**
 * The repository API's parameters, read as one namespace (`import * as param`): `param.required`,
 * `param.optional`, `param.flag`, `param.date`, `param.author` from the query and body, `param.ref` from the URL.
 * Each refuses a bad value with GitLab's words and FLO_ERR_BAD_REQUEST naming the field.
 */
import { parseBoolean, type Body } from './http-helpers.js';
import type { Identity } from '../git/repository-api.js';
import { badRequest, type RepoRequest } from './repository-helpers.js';

/** A required string parameter; GitLab's "<name> is missing" when absent or empty. */
export function required(params: Body, name: string): string {
  const v = params[name];
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v === '') throw badRequest(`${name} is missing`, name);
  return v;
}

export function optional(params: Body, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw badRequest(`${name} is invalid`, name);
}

export function flag(params: Body, name: string): boolean | undefined {
  const parsed = parseBoolean(params[name]);
  if (parsed !== null) return parsed;
  throw badRequest(`${name} is invalid: use true or false`, name);
}

export function date(params: Body, name: string): Date | undefined {
  const v = optional(params, name);
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw badRequest(`${name} is invalid: use ISO 8601, e.g. 2024-06-01T00:00:00Z`, name);
  return d;
}

/** Branch or tag name from the URL (fastify has decoded `%2F`), checked for safety. */
export function ref(r: RepoRequest, key: string): string {
  const v = r.path[key] ?? '';
  if (v === '') throw badRequest(`${key} is missing`, key);
  return v;
}

/** `author_name` / `author_email` if given, else the committer. */
export function author(params: Body, committer: Identity): Identity {
  const name = optional(params, 'author_name') ?? committer.name;
  const email = optional(params, 'author_email') ?? committer.email;
  for (const [field, value] of [
    ['author_name', name],
    ['author_email', email],
  ] as const) {
    if (/[<>\n\r\0]/.test(value) || value.trim() === '') {
      throw badRequest(`${field} is invalid: it must not be empty or contain <, > or line breaks`, field);
    }
  }
  return { name, email };
}
