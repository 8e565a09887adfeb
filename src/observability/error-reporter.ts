/**
 * A tiny Sentry-compatible error reporter (`sentry_dsn` in config.toml), without the Sentry SDK:
 * one JSON event per report, `POST <scheme>://<host>/api/<project>/store/` with an
 * `X-Sentry-Auth` header, which Sentry, GlitchTip and other compatible servers accept.
 *
 * - Everything sent goes through redact.ts (tokens, URL credentials, secret-named keys).
 * - Sending never throws and never blocks the caller; failures are logged at debug level only,
 *   so a broken error tracker cannot cause more error reports.
 * - At most `maxPerMinute` events per minute (a crash loop must not flood the tracker).
 * - `setDsn` swaps the destination (config reload); undefined turns reporting off.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import type { Clock } from '../shared/clock.js';
import { FlotillaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { redactText, redactValue } from './redact.js';

export interface ParsedDsn {
  storeUrl: string;
  publicKey: string;
  secretKey: string | undefined;
  projectId: string;
}

export type ReportLevel = 'fatal' | 'error' | 'warning';

export interface ErrorReport {
  message: string;
  level?: ReportLevel;
  error?: unknown;
  /** Indexed context, e.g. `{ runner: 'abc123def', job: '42' }`. */
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
}

export interface ErrorReporter {
  report(report: ErrorReport): void;
  setDsn(dsn: string | undefined): void;
  /** Resolves when every report sent so far was answered (or failed). */
  flush(): Promise<void>;
}

export interface ErrorReporterOptions {
  dsn: string | undefined;
  clock: Clock;
  logger: Logger;
  release: string;
  serverName?: string;
  fetch?: typeof fetch;
  maxPerMinute?: number;
}

/** `https://PUBLIC[:SECRET]@host[:port][/path]/PROJECT` → the store endpoint and keys. */
export function parseDsn(dsn: string): ParsedDsn {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw new FlotillaError('FLO_ERR_CONFIG_INVALID', 'sentry_dsn is not a URL');
  }
  const parts = url.pathname.split('/').filter((p) => p !== '');
  const projectId = parts.pop();
  if (!url.username || !projectId || !/^(https?):$/.test(url.protocol)) {
    throw new FlotillaError('FLO_ERR_CONFIG_INVALID', 'sentry_dsn must look like https://KEY@host/PROJECT');
  }
  const prefix = parts.length > 0 ? `/${parts.join('/')}` : '';
  return {
    storeUrl: `${url.protocol}//${url.host}${prefix}/api/${projectId}/store/`,
    publicKey: decodeURIComponent(url.username),
    secretKey: url.password ? decodeURIComponent(url.password) : undefined,
    projectId,
  };
}

function exceptionOf(error: unknown): Record<string, unknown> | undefined {
  if (error === undefined) return undefined;
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    values: [{ type: err.name, value: err.message, stacktrace: err.stack ? { raw: err.stack } : undefined }],
  };
}

/** The Sentry event body for one report (already redacted). */
export function buildEvent(
  report: ErrorReport,
  o: { release: string; serverName: string; now: Date },
): Record<string, unknown> {
  return redactValue({
    event_id: randomUUID().replace(/-/g, ''),
    timestamp: o.now.toISOString(),
    platform: 'node',
    logger: 'flotilla',
    level: report.level ?? 'error',
    release: o.release,
    server_name: o.serverName,
    message: { formatted: redactText(report.message) },
    exception: exceptionOf(report.error),
    tags: report.tags ?? {},
    extra: report.extra ?? {},
  }) as Record<string, unknown>;
}

export function createErrorReporter(options: ErrorReporterOptions): ErrorReporter {
  const send = options.fetch ?? fetch;
  const maxPerMinute = options.maxPerMinute ?? 30;
  const inFlight = new Set<Promise<void>>();
  let dsn: ParsedDsn | undefined;
  let windowStart = 0;
  let sentInWindow = 0;

  function setDsn(next: string | undefined): void {
    try {
      dsn = next ? parseDsn(next) : undefined;
    } catch (err) {
      dsn = undefined;
      options.logger.warn({ reason: (err as Error).message }, 'sentry_dsn ignored');
    }
  }

  function allowed(): boolean {
    const now = options.clock.monotonic();
    if (now - windowStart >= 60_000) {
      windowStart = now;
      sentInWindow = 0;
    }
    return sentInWindow++ < maxPerMinute;
  }

  async function post(target: ParsedDsn, event: Record<string, unknown>): Promise<void> {
    const auth = [
      `sentry_version=7`,
      `sentry_client=flotilla/${options.release}`,
      `sentry_key=${target.publicKey}`,
    ];
    if (target.secretKey) auth.push(`sentry_secret=${target.secretKey}`);
    const res = await send(target.storeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sentry-auth': `Sentry ${auth.join(', ')}` },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) options.logger.debug({ status: res.status }, 'error report rejected');
  }

  setDsn(options.dsn);
  return {
    setDsn,
    report(report) {
      const target = dsn;
      if (!target || !allowed()) return;
      const event = buildEvent(report, {
        release: options.release,
        serverName: options.serverName ?? hostname(),
        now: options.clock.now(),
      });
      const promise = post(target, event)
        .catch((err: unknown) => options.logger.debug({ err: String(err) }, 'error report not sent'))
        .finally(() => inFlight.delete(promise));
      inFlight.add(promise);
    },
    async flush() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
