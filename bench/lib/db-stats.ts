/**
 * Store calls the coordinator made, from its own `flotilla_coordinator_db_query_duration_seconds`
 * histogram (`/metrics`): count and total seconds per store operation. Two scrapes subtract.
 */
export type DbStats = Map<string, { count: number; seconds: number }>;

const SERIES = /^flotilla_coordinator_db_query_duration_seconds_(count|sum)\{operation="([^"]+)"\} (\S+)$/gm;

export function parseDbStats(metrics: string): DbStats {
  const out: DbStats = new Map();
  for (const m of metrics.matchAll(SERIES)) {
    const [, kind, op, value] = m;
    if (!op || !value) continue;
    const entry = out.get(op) ?? { count: 0, seconds: 0 };
    if (kind === 'count') entry.count = Number(value);
    else entry.seconds = Number(value);
    out.set(op, entry);
  }
  return out;
}

export async function scrapeDbStats(url: string): Promise<DbStats> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) throw new Error(`GET ${url}/metrics answered ${res.status}`);
  return parseDbStats(await res.text());
}

/** `after − before`, per operation, the busiest (by total time) first: "op calls/job ms/job". */
export function perJob(before: DbStats, after: DbStats, jobs: number, top = 8): string[] {
  return [...after]
    .map(([op, a]) => {
      const b = before.get(op) ?? { count: 0, seconds: 0 };
      return { op, count: a.count - b.count, seconds: a.seconds - b.seconds };
    })
    .filter((x) => x.count > 0)
    .sort((x, y) => y.seconds - x.seconds)
    .slice(0, top)
    .map(
      (x) =>
        `${x.op} ${(x.count / jobs).toFixed(2)} calls/job, ${((x.seconds * 1000) / jobs).toFixed(2)} ms/job`,
    );
}

/** Not a round trip: waiting for the group commit (SQLite) before a reply. */
const NOT_CALLS = new Set(['durable']);

/** Store calls per job over all operations (`durable` waits excluded). */
export function totalPerJob(before: DbStats, after: DbStats, jobs: number): number | null {
  if (jobs <= 0) return null;
  let calls = 0;
  for (const [op, a] of after) {
    if (NOT_CALLS.has(op)) continue;
    calls += a.count - (before.get(op)?.count ?? 0);
  }
  return calls / jobs;
}
