/** Metric names a PromQL expression reads (a lexical scan, good enough for our rules and panels). */

const NOT_METRICS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'rate',
  'irate',
  'increase',
  'histogram_quantile',
  'round',
  'vector',
  'abs',
  'time',
  'le',
  'inf',
  'nan',
]);

export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+\w+/g, ' ')
    .replace(/(^|[^a-zA-Z0-9_:])\d[\w.]*/g, '$1 ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const token = m[0];
    const after = bare.slice((m.index ?? 0) + token.length).trimStart();
    if (after.startsWith('(') || NOT_METRICS.has(token.toLowerCase())) continue;
    names.add(token);
  }
  return [...names];
}

/** `x_bucket` / `x_count` / `x_sum` of a documented histogram `x` count as `x`. */
export function baseName(name: string, known: ReadonlySet<string>): string {
  const m = /^(.*)_(bucket|count|sum)$/.exec(name);
  return m?.[1] && known.has(m[1]) ? m[1] : name;
}
