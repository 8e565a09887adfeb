/**
 * Is a process's memory flat over a run? Samples (jobs done so far, RSS, heap used, heap retained
 * after the last full GC) are summarised at the start, middle and end, with least-squares slopes
 * per 1,000 jobs over the whole run and over its second half. Heap used alone is GC noise (it
 * saws between collections); the heap left after a mark-compact (V8's `--trace-gc` line) is what
 * the process really keeps, so a leak shows as that value's slope.
 */

export interface MemorySample {
  /** Second of the run. */
  s: number;
  jobs: number;
  rssMiB: number;
  heapUsedMiB: number | null;
  /** Heap after the most recent mark-compact before this sample; null before the first one. */
  retainedMiB: number | null;
}

export type MemoryField = 'rssMiB' | 'heapUsedMiB' | 'retainedMiB';

/**
 * Retained heap slopes (MiB per 1,000 jobs, second half) at or below this count as flat: under
 * 5 MiB over the load run's 10,000 jobs, inside one mark-compact's spread at this heap size.
 */
export const FLAT_RETAINED_MIB_PER_1000 = 0.5;

/**
 * The heap after a full GC in one `--trace-gc` line (`Mark-Compact 60.1 (70.2) -> 45.3 (68.0) MB`;
 * V8's "MB" there is 2^20 bytes).
 */
export function markCompactAfterMiB(line: string): number | null {
  const m = /Mark-Compact[^\d]*[\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/.exec(line);
  return m ? Number(m[1]) : null;
}

/** Least-squares slope of `field` against jobs, in MiB per 1,000 jobs; null with < 2 points or no spread. */
export function slopePer1000(samples: readonly MemorySample[], field: MemoryField): number | null {
  const points = samples.flatMap((x) => {
    const y = x[field];
    return y === null ? [] : [{ x: x.jobs / 1000, y }];
  });
  if (points.length < 2) return null;
  const mx = points.reduce((a, p) => a + p.x, 0) / points.length;
  const my = points.reduce((a, p) => a + p.y, 0) / points.length;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  if (sxx === 0) return null;
  return points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
}

export interface MemoryTrend {
  start: MemorySample | undefined;
  middle: MemorySample | undefined;
  end: MemorySample | undefined;
  slopes: Record<MemoryField, { whole: number | null; secondHalf: number | null }>;
  flat: boolean | null;
}

export function memoryTrend(samples: readonly MemorySample[]): MemoryTrend {
  const lastJobs = samples[samples.length - 1]?.jobs ?? 0;
  const secondHalf = samples.filter((x) => x.jobs >= lastJobs / 2);
  const fields: MemoryField[] = ['rssMiB', 'heapUsedMiB', 'retainedMiB'];
  const slopes = Object.fromEntries(
    fields.map((f) => [f, { whole: slopePer1000(samples, f), secondHalf: slopePer1000(secondHalf, f) }]),
  ) as MemoryTrend['slopes'];
  const retained = slopes.retainedMiB.secondHalf;
  return {
    start: samples[0],
    middle: samples[Math.floor((samples.length - 1) / 2)],
    end: samples[samples.length - 1],
    slopes,
    flat: retained === null ? null : retained <= FLAT_RETAINED_MIB_PER_1000,
  };
}

const mib = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(0));
const slope = (v: number | null): string => (v === null ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(2)}`);

/** The trend as printed lines: the three points, the slopes, and the verdict. */
export function describeTrend(t: MemoryTrend): string[] {
  const point = (name: string, x: MemorySample | undefined): string =>
    x
      ? `${name} ${x.s} s, ${x.jobs} jobs: RSS ${mib(x.rssMiB)}, heap used ${mib(x.heapUsedMiB)}, retained after full GC ${mib(x.retainedMiB)} MiB`
      : `${name}: no sample`;
  const slopeLine = (name: string, f: MemoryField): string =>
    `${name} ${slope(t.slopes[f].whole)} (whole run) / ${slope(t.slopes[f].secondHalf)} (second half)`;
  return [
    point('start', t.start),
    point('middle', t.middle),
    point('end', t.end),
    `slope, MiB per 1,000 jobs: ${slopeLine('RSS', 'rssMiB')}; ${slopeLine('heap used', 'heapUsedMiB')}; ${slopeLine('retained heap', 'retainedMiB')}`,
    t.flat === null
      ? 'flat: unknown (no full GC seen)'
      : `${t.flat ? 'FLAT' : 'NOT FLAT'}: retained heap ${slope(t.slopes.retainedMiB.secondHalf)} MiB per 1,000 jobs over the second half (flat means at most ${FLAT_RETAINED_MIB_PER_1000})`,
  ];
}
