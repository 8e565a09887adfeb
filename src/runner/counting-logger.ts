/**
 * Wraps a logger so every warning/error line is counted (gitlab_runner_errors_total{level}), also
 * through child loggers. The lines themselves are unchanged.
 */
import type { Logger } from '../shared/logger.js';

export type CountedLevel = 'warning' | 'error' | 'fatal';

const COUNTED: Record<string, CountedLevel> = { warn: 'warning', error: 'error', fatal: 'fatal' };

export function countingLogger(logger: Logger, count: (level: CountedLevel) => void): Logger {
  return new Proxy(logger, {
    get(target, prop, receiver) {
      if (prop === 'child') {
        return (...args: Parameters<Logger['child']>) =>
          countingLogger(target.child(...args) as unknown as Logger, count);
      }
      const level = typeof prop === 'string' ? COUNTED[prop] : undefined;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (level === undefined || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (target.isLevelEnabled(prop as string)) count(level);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
