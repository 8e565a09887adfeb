import { Cron } from 'croner';

/**
 * The autoscaler policy's `periods`: 5-field cron expressions (`minute hour day-of-month month
 * day-of-week`, names such as `mon-fri` and `jan`, `7` for Sunday) as gitlab-runner's
 * `[[runners.autoscaler.policy]]` takes them, matched minute by minute in an IANA time zone by
 * croner. A period matches a wall-clock minute of that zone, so across DST changes an hour that is
 * skipped never matches and an hour that repeats matches twice. As in cron, when both day fields
 * are restricted either may match.
 */
export interface CronExpression {
  readonly source: string;
}

const CACHE_LIMIT = 200;
/** Compiled expressions, with the last minute matched (the autoscaler asks every second). */
const compiled = new Map<string, { cron: Cron; minuteMs: number; matches: boolean }>();

/** Parses a 5-field expression; throws with the expression in the message. */
export function parseCron(source: string): CronExpression {
  compile(source, 'UTC');
  return { source };
}

/** Whether the minute of `date` in `timeZone` (default UTC) is one the expression names. */
export function cronMatches(expr: CronExpression, date: Date, timeZone = 'UTC'): boolean {
  const minuteMs = Math.floor(date.getTime() / 60_000) * 60_000;
  try {
    const c = compile(expr.source, timeZone);
    if (c.minuteMs !== minuteMs) {
      c.matches = c.cron.match(new Date(minuteMs));
      c.minuteMs = minuteMs;
    }
    return c.matches;
  } catch (err) {
    throw new Error(`"${expr.source}" in time zone "${timeZone}": ${(err as Error).message}`);
  }
}

function compile(source: string, timeZone: string): { cron: Cron; minuteMs: number; matches: boolean } {
  const key = `${timeZone} ${source}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  const fields = source.trim().split(/\s+/);
  if (fields.length !== 5)
    throw new Error(`"${source}": a period needs 5 fields (minute hour day month weekday)`);
  refuseExtensions(source, fields);
  let cron: Cron;
  try {
    cron = new Cron(fields.join(' '), { timezone: timeZone, mode: '5-part' });
  } catch (err) {
    throw new Error(`"${source}": ${(err as Error).message.replace(/^CronPattern: /, '')}`);
  }
  if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value ?? '');
  const entry = { cron, minuteMs: NaN, matches: false };
  compiled.set(key, entry);
  return entry;
}

/** croner also reads Quartz's `L`, `W`, `#` and `?` (the current time); unix cron has none of them. */
function refuseExtensions(source: string, fields: string[]): void {
  const dom = fields[2] ?? '';
  const dow = (fields[4] ?? '').replace(/sun|mon|tue|wed|thu|fri|sat/gi, '');
  if (/[LW#?]/i.test(dom) || /[LW#?]/i.test(dow))
    throw new Error(`"${source}": only *, lists, ranges, steps and names are allowed (no L, W, # or ?)`);
}
