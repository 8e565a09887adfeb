/**
 * Wraps a logger so every `error` and `fatal` line is also sent to an ErrorReporter, with the
 * logger's bindings and the line's fields as context: `runner`, `jobId`/`job`, `system_id` become
 * tags, the rest goes to `extra`, an `err` field becomes the exception. Lines are unchanged, and
 * errors are reported even when `log_level` hides them.
 */
import type { Logger } from '../shared/logger.js';
import type { ErrorReporter, ReportLevel } from './error-reporter.js';

const REPORTED: Record<string, ReportLevel> = { error: 'error', fatal: 'fatal' };
const TAG_KEYS = ['runner', 'jobId', 'job', 'system_id', 'executor', 'name'];

function splitContext(fields: Record<string, unknown>): {
  tags: Record<string, string>;
  extra: Record<string, unknown>;
} {
  const tags: Record<string, string> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'err') continue;
    if (TAG_KEYS.includes(key) && (typeof value === 'string' || typeof value === 'number')) {
      tags[key === 'jobId' ? 'job' : key] = String(value);
    } else {
      extra[key] = value;
    }
  }
  return { tags, extra };
}

function reportLine(logger: Logger, reporter: ErrorReporter, level: ReportLevel, args: unknown[]): void {
  const [first, second] = args;
  const fields =
    typeof first === 'object' && first !== null && !(first instanceof Error)
      ? (first as Record<string, unknown>)
      : {};
  const error = first instanceof Error ? first : fields['err'];
  const message =
    typeof first === 'string' ? first : typeof second === 'string' ? second : String(error ?? 'error');
  const { tags, extra } = splitContext({ ...logger.bindings(), ...fields });
  reporter.report({ message, level, error, tags, extra });
}

export function reportingLogger(logger: Logger, reporter: ErrorReporter): Logger {
  return new Proxy(logger, {
    get(target, prop, receiver) {
      if (prop === 'child') {
        return (...args: Parameters<Logger['child']>) =>
          reportingLogger(target.child(...args) as unknown as Logger, reporter);
      }
      const level = typeof prop === 'string' ? REPORTED[prop] : undefined;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (level === undefined || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        reportLine(target, reporter, level, args);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
