/**
 * A small 5-field cron matcher (`minute hour day-of-month month day-of-week`) for the autoscaler's
 * policy `periods`, evaluated in a time zone. Supports `*`, lists, ranges, steps and English names
 * (`mon-fri`, `jan`). As in cron, when both day fields are restricted either may match. PURE.
 */
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  min: number;
  max: number;
  names?: string[];
  nameBase?: number;
}

const FIELDS: FieldSpec[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { min: 0, max: 7, names: DAYS, nameBase: 0 },
];

export interface CronExpression {
  source: string;
  fields: Set<number>[];
  domRestricted: boolean;
  dowRestricted: boolean;
}

function value(text: string, spec: FieldSpec, source: string): number {
  const idx = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const n = idx >= 0 ? idx + (spec.nameBase ?? 0) : Number(text);
  if (!Number.isInteger(n) || n < spec.min || n > spec.max)
    throw new Error(`"${source}": bad value "${text}"`);
  return n;
}

function parseField(text: string, spec: FieldSpec, source: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`"${source}": bad step in "${part}"`);
    let lo = spec.min;
    let hi = spec.max;
    if (range !== '*') {
      const [a = '', b] = range.split('-');
      lo = value(a, spec, source);
      hi = b === undefined ? (stepText === undefined ? lo : spec.max) : value(b, spec, source);
    }
    if (lo > hi) throw new Error(`"${source}": empty range "${part}"`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** Parses a 5-field expression; throws with the expression in the message. */
export function parseCron(source: string): CronExpression {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new Error(`"${source}": a period needs 5 fields (minute hour day month weekday)`);
  const fields = parts.map((p, i) => parseField(p, FIELDS[i] as FieldSpec, source));
  const dow = fields[4] as Set<number>;
  if (dow.has(7)) dow.add(0);
  return { source, fields, domRestricted: parts[2] !== '*', dowRestricted: parts[4] !== '*' };
}

interface WallTime {
  minute: number;
  hour: number;
  day: number;
  month: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of `date` in `timeZone` (IANA name; default UTC). */
export function wallTime(date: Date, timeZone = 'UTC'): WallTime {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      minute: 'numeric',
      hour: 'numeric',
      day: 'numeric',
      month: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(date).map((p) => [p.type, p.value]));
  return {
    minute: Number(parts.minute),
    hour: Number(parts.hour),
    day: Number(parts.day),
    month: Number(parts.month),
    weekday: DAYS.indexOf(String(parts.weekday).toLowerCase().slice(0, 3)),
  };
}

export function cronMatches(expr: CronExpression, date: Date, timeZone?: string): boolean {
  const t = wallTime(date, timeZone);
  const [min, hour, dom, month, dow] = expr.fields as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  if (!min.has(t.minute) || !hour.has(t.hour) || !month.has(t.month)) return false;
  if (expr.domRestricted && expr.dowRestricted) return dom.has(t.day) || dow.has(t.weekday);
  return dom.has(t.day) && dow.has(t.weekday);
}
