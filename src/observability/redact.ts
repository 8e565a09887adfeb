/**
 * Secret redaction for anything that leaves the process in an error report: our token formats
 * (via the logger's redactTokens), credentials in URLs, and values of keys that name a secret.
 */
import { redactTokens } from '../shared/logger.js';

export const REDACTED = '[MASKED]';

const SECRET_KEY = /token|password|passwd|secret|authorization|cookie|dsn|api[_-]?key|credentials?$/i;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+(?::[^\s/@]*)?@/gi;
const QUERY_SECRET = /([?&](?:private_token|job_token|token|access_token|password)=)[^&\s#]+/gi;

export function redactText(text: string): string {
  return redactTokens(text).replace(URL_CREDENTIALS, `$1${REDACTED}@`).replace(QUERY_SECRET, `$1${REDACTED}`);
}

/** A deep copy with secrets masked; depth-limited and cycle-safe, functions dropped. */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return typeof value === 'function' ? undefined : value;
  if (depth > 6 || seen.has(value)) return '[...]';
  seen.add(value);
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redactValue(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      SECRET_KEY.test(key) && v !== null && v !== undefined ? REDACTED : redactValue(v, depth + 1, seen);
  }
  return out;
}
