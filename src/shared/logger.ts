import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export type LogFormat = 'json' | 'text';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'panic';

/** Keys whose values never reach a log line. */
const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'headers["private-token"]',
  'headers["job-token"]',
  'headers.authorization',
  'req.headers["private-token"]',
  'req.headers["job-token"]',
  'req.headers.authorization',
  'rootToken',
];

const TOKEN_PATTERN = /\b(glrt-|glcbt-|glpat-|glrtr-|flt-)[A-Za-z0-9_-]{6,}/g;

/** Replaces anything that looks like one of our tokens with its prefix and [MASKED]. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_PATTERN, '$1[MASKED]');
}

export interface CreateLoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  name?: string;
  destination?: NodeJS.WritableStream;
}

function pinoLevel(level: LogLevel): string {
  return level === 'panic' ? 'fatal' : level;
}

/** Writes one line per event: JSON, or `time level msg key=value...` text. */
function textStream(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      const { time, level, msg, pid: _pid, hostname: _h, ...rest } = rec;
      const fields = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`)
        .join(' ');
      const lvl = typeof level === 'string' ? level : String(level);
      out.write(
        `${new Date(Number(time)).toISOString()} ${lvl.toUpperCase().padEnd(5)} ${String(msg ?? '')}${fields ? ' ' + fields : ''}\n`,
      );
    },
  };
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const out = options.destination ?? process.stderr;
  const pinoOptions: LoggerOptions = {
    level: pinoLevel(options.level ?? 'info'),
    redact: { paths: REDACT_PATHS, censor: '[MASKED]' },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((a) => (typeof a === 'string' ? redactTokens(a) : a)) as typeof args;
        method.apply(this, redacted);
      },
    },
    ...(options.name ? { name: options.name } : {}),
  };
  const stream = options.format === 'text' ? textStream(out) : out;
  return pino(pinoOptions, stream as pino.DestinationStream);
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
