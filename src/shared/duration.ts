import { FlotillaError } from './errors.js';

const UNITS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  wk: 604800,
  wks: 604800,
  week: 604800,
  weeks: 604800,
  // ChronicDuration (GitLab's parser): a month is 30 days, a year 365.25 days.
  mo: 2592000,
  mos: 2592000,
  month: 2592000,
  months: 2592000,
  y: 31557600,
  yr: 31557600,
  yrs: 31557600,
  year: 31557600,
  years: 31557600,
};

/**
 * Parses a human duration ("1h 30m", "90 minutes", "2h30m", "30s", "45", "6 mos 1 day") into
 * seconds, with the units of GitLab's ChronicDuration and Go's "1h30m0s". A small parser kept as
 * ours: no npm package reads ChronicDuration's forms (`mos`, `yrs`, "and"); see duration.test.ts.
 * A bare number means seconds. Throws FLO_ERR_CONFIG_INVALID with the offending text.
 */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const input = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(input)) return Number(input);
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;
  let total = 0;
  let consumed = '';
  for (const m of input.matchAll(re)) {
    const [whole, num, unit] = m;
    const factor = UNITS[unit ?? ''];
    if (factor === undefined) throw badDuration(text);
    total += Number(num) * factor;
    consumed += whole;
  }
  if (consumed.replace(/\s|and|,/g, '') !== input.replace(/\s|and|,/g, '') || consumed === '') {
    throw badDuration(text);
  }
  return total;
}

function badDuration(text: string): FlotillaError {
  return new FlotillaError(
    'FLO_ERR_CONFIG_INVALID',
    `"${text}" is not a duration; use forms like "30s", "10m", "1h 30m" or "2 hours"`,
  );
}

/** Formats seconds as Go-style "1h2m3s" (used by gitlab-runner's debug output). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${r}s`;
}
