/**
 * The job request's and job update's bodies checked without zod when they have the shape a runner
 * sends (every field of the right type): zod's object parse cost more coordinator CPU per request
 * than the rest of the route's own code. Each check accepts only bodies that
 * `jobRequestSchema`/`updateJobRequestSchema` accept and returns what they would (unknown top-level
 * keys dropped, `info` kept whole); any other body goes to zod, which answers as before.
 */
import type { JobRequest, UpdateJobRequest } from '../../api/runner-api.js';

type Obj = Record<string, unknown>;

const JOB_STATES: ReadonlySet<unknown> = new Set(['pending', 'running', 'success', 'failed', 'canceled']);
const INFO_STRINGS = ['name', 'version', 'revision', 'platform', 'architecture', 'executor', 'shell'];

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function optional(v: unknown, check: (x: unknown) => boolean): boolean {
  return v === undefined || check(v);
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isInt = (v: unknown): boolean => Number.isInteger(v);

function recordOf(v: unknown, check: (x: unknown) => boolean): boolean {
  if (!isObject(v)) return false;
  for (const k in v) if (Object.hasOwn(v, k) && !check(v[k])) return false;
  return true;
}

/** `runnerInfoSchema` (passthrough): a copy of the whole object, or undefined when zod must look. */
function checkedInfo(v: unknown): Obj | undefined {
  if (!isObject(v)) return undefined;
  for (const k of INFO_STRINGS) if (!optional(v[k], isString)) return undefined;
  if (!optional(v['features'], (f) => recordOf(f, (x) => typeof x === 'boolean'))) return undefined;
  if (!optional(v['labels'], (l) => recordOf(l, isString))) return undefined;
  if (!optional(v['config'], (c) => recordOf(c, () => true))) return undefined;
  return { ...v };
}

function pick(out: Obj, body: Obj, keys: readonly string[]): void {
  for (const k of keys) if (body[k] !== undefined) out[k] = body[k];
}

/** `jobRequestSchema.parse(body)` for a well-formed body; undefined otherwise. */
export function quickJobRequest(body: unknown): JobRequest | undefined {
  if (!isObject(body)) return undefined;
  const token = body['token'];
  if (typeof token !== 'string' || token.length === 0) return undefined;
  if (!optional(body['system_id'], isString) || !optional(body['last_update'], isString)) return undefined;
  const out: Obj = { token };
  pick(out, body, ['system_id', 'last_update', 'session']);
  if (body['info'] !== undefined) {
    const info = checkedInfo(body['info']);
    if (!info) return undefined;
    out['info'] = info;
  }
  return out as JobRequest;
}

function checkedOutput(v: unknown): Obj | undefined {
  if (!isObject(v)) return undefined;
  const bytes = v['bytesize'];
  if (!optional(v['checksum'], isString)) return undefined;
  if (!optional(bytes, (b) => isInt(b) && (b as number) >= 0)) return undefined;
  const out: Obj = {};
  pick(out, v, ['checksum', 'bytesize']);
  return out;
}

/** `updateJobRequestSchema.parse(body)` for a well-formed body; undefined otherwise. */
export function quickUpdateJobRequest(body: unknown): UpdateJobRequest | undefined {
  if (!isObject(body)) return undefined;
  for (const k of ['token', 'failure_reason', 'checksum']) if (!optional(body[k], isString)) return undefined;
  if (!optional(body['state'], (s) => JOB_STATES.has(s))) return undefined;
  if (!optional(body['exit_code'], isInt)) return undefined;
  const out: Obj = {};
  pick(out, body, ['token', 'state', 'failure_reason', 'exit_code', 'checksum']);
  for (const [key, check] of [
    ['output', checkedOutput],
    ['info', checkedInfo],
  ] as const) {
    if (body[key] === undefined) continue;
    const value = check(body[key]);
    if (!value) return undefined;
    out[key] = value;
  }
  return out as UpdateJobRequest;
}
