/**
 * Measured demand for the predictive policy: job arrivals (recent, and by time of day on earlier
 * days), machine boot times per provider and job durations. No clock and no I/O: the taskscaler
 * feeds it events with their times, and asks for a `Forecast` at a given time.
 *
 * The forecast's core figure is, for every job of the history, how many jobs arrived within one
 * boot time before it, itself included ("burst seen by the job"). A fleet that holds k idle slots
 * when a burst starts serves at once every job whose burst count is ≤ k; the others wait for a
 * machine to finish a job or to boot. The percentile of these counts over jobs is therefore the
 * idle capacity a wanted share of jobs needs.
 */

export interface DemandSettings {
  /** How far back arrivals count as recent. */
  historyMs: number;
  /** Width of a time-of-day bucket; arrivals of earlier days in the coming bucket count too. */
  bucketMs: number;
  /** Days of time-of-day history kept. */
  days: number;
  /** Boot time assumed before any machine was measured. */
  initialBootMs: number;
  /** Boot-time quantile used as "one boot time" (0–1). */
  bootQuantile: number;
  /** The recent span compared with the history to detect a change of rate (0 = none). */
  trendMs: number;
  /** The span whose largest burst count `Forecast.recentLargestBurst` reports (0 = not measured). */
  lastUseWithinMs: number;
}

const DAY_MS = 86_400_000;
/** Boot and job-duration samples kept per provider / in all. */
const SAMPLES = 50;
/** Job durations kept (the mean is of the last SAMPLES; announced jobs' due times use them all). */
const DURATION_SAMPLES = 500;

export interface Forecast {
  /** One boot time, in ms: the boot quantile of the provider that created machines last. */
  bootMs: number;
  /** Jobs whose burst count is known: recent jobs and earlier days' jobs of the coming bucket. */
  jobs: number;
  /** Per job, the jobs that arrived within one boot time before it (itself included), ascending. */
  bursts: number[];
  /** The span the jobs were observed over, in ms (for rates). */
  spanMs: number;
  /** Mean job duration in ms (0 = none measured yet). */
  meanJobMs: number;
  /** Jobs that arrived in the last `trendMs` (the recent rate, for burst detection). */
  recentJobs: number;
  /** The recent span, in ms (0 = no burst detection). */
  trendMs: number;
  /**
   * The highest slot a burst reached lately (0 when not measured): the largest burst count of the
   * jobs of the last `lastUseWithinMs`, or, when higher, the one that at least half of the earlier
   * days reached in their coming bucket (one day's largest burst is not what a day brings).
   */
  recentLargestBurst: number;
}

/** What a model has measured, in a form that outlives the process (see demand-store.ts). */
export interface DemandSnapshot {
  /** Arrival times (epoch ms), ascending. */
  arrivals: number[];
  /** The first arrival ever seen (spans before it are unobserved), or null. */
  firstMs: number | null;
  /** Boot samples (ms) per provider, oldest first. */
  boots: Record<string, number[]>;
  /** The provider that created machines last. */
  lastBootProvider: string | null;
  /** Job durations (ms), oldest first. */
  durations: number[];
}

export interface DemandModel {
  arrival(atMs: number): void;
  boot(provider: string, ms: number): void;
  jobDone(ms: number): void;
  forecast(nowMs: number): Forecast;
  /** The last measured job durations (up to 500), ascending: their distribution. */
  durations(): readonly number[];
  /** Counts the events recorded and restored (whether a snapshot is out of date). */
  revision(): number;
  snapshot(): DemandSnapshot;
  /**
   * Adds an earlier process's measurements to this one's (a manager restarted): arrivals merged and
   * those older than the kept span at `nowMs` dropped, samples put before this process's own.
   */
  restore(snapshot: DemandSnapshot, nowMs: number): void;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? 0;
}

/**
 * For each time in `times` (ascending), its position among the times in (t − windowMs, t]: the
 * idle slots it needs to start at once (jobs of the same instant take consecutive positions).
 */
export function burstCounts(times: readonly number[], windowMs: number): number[] {
  const out: number[] = [];
  let lo = 0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i] ?? 0;
    while ((times[lo] ?? 0) <= t - windowMs) lo++;
    out.push(i - lo + 1);
  }
  return out;
}

/** Index of the first time > t (or ≥ t when `inclusive`) in an ascending list. */
function firstAfter(times: readonly number[], t: number, inclusive = false): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const x = times[mid] ?? 0;
    if (x > t || (inclusive && x === t)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The largest value that at least half of `perDay` reach (the ceil(n/2)-th largest; 0 when empty):
 * with one earlier day its value, with seven the median. PURE.
 */
export function onHalfTheDays(perDay: readonly number[]): number {
  if (perDay.length === 0) return 0;
  const sorted = [...perDay].sort((a, b) => b - a);
  return sorted[Math.ceil(sorted.length / 2) - 1] ?? 0;
}

/** The largest of `xs`, 0 when empty. */
function largest(xs: readonly number[]): number {
  let m = 0;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/** Boot samples per provider (the last SAMPLES), and which provider booted last. */
function createBootSamples(s: Pick<DemandSettings, 'initialBootMs' | 'bootQuantile'>) {
  /** In arrival order, and sorted (the sorted copy is what is read). */
  const boots = new Map<string, number[]>();
  const sortedBoots = new Map<string, number[]>();
  let last: string | null = null;
  function set(provider: string, samples: number[]): void {
    const kept = samples.slice(-SAMPLES);
    boots.set(provider, kept);
    sortedBoots.set(
      provider,
      [...kept].sort((a, b) => a - b),
    );
  }
  return {
    add(provider: string, ms: number): void {
      set(provider, [...(boots.get(provider) ?? []), ms]);
      last = provider;
    },
    /** One boot time: the boot quantile of the provider that booted last. */
    bootMs(): number {
      const sorted = last ? sortedBoots.get(last) : undefined;
      if (!sorted || sorted.length === 0) return s.initialBootMs;
      return quantile(sorted, s.bootQuantile);
    },
    snapshot: (): Pick<DemandSnapshot, 'boots' | 'lastBootProvider'> => ({
      boots: Object.fromEntries([...boots].map(([provider, samples]) => [provider, [...samples]])),
      lastBootProvider: last,
    }),
    /** Earlier samples go before this process's own. */
    restore(snap: Pick<DemandSnapshot, 'boots' | 'lastBootProvider'>): void {
      for (const [provider, samples] of Object.entries(snap.boots))
        set(provider, [...samples, ...(boots.get(provider) ?? [])]);
      last ??= snap.lastBootProvider;
    },
  };
}

/** Job durations (the last DURATION_SAMPLES): the mean of the last SAMPLES, and their distribution. */
function createDurationSamples() {
  let samples: number[] = [];
  /** `samples` sorted, made when asked after a change. */
  let sorted: number[] | null = null;
  return {
    add(ms: number): void {
      samples.push(ms);
      if (samples.length > DURATION_SAMPLES) samples.shift();
      sorted = null;
    },
    mean(): number {
      const last = samples.slice(-SAMPLES);
      return last.length ? last.reduce((a, b) => a + b, 0) / last.length : 0;
    },
    sorted(): readonly number[] {
      sorted ??= [...samples].sort((a, b) => a - b);
      return sorted;
    },
    list: (): number[] => [...samples],
    /** Earlier samples go before this process's own. */
    restore(earlier: readonly number[]): void {
      samples = [...earlier, ...samples].slice(-DURATION_SAMPLES);
      sorted = null;
    },
  };
}

export function createDemandModel(s: DemandSettings): DemandModel {
  let arrivals: number[] = [];
  /** The first arrival seen: spans before it are unobserved, not empty. */
  let firstMs: number | null = null;
  const boots = createBootSamples(s);
  const durations = createDurationSamples();
  let revision = 0;

  function dropOlderThan(atMs: number): void {
    const keep = atMs - Math.max(s.historyMs, s.days * DAY_MS);
    if ((arrivals[0] ?? atMs) < keep) arrivals = arrivals.filter((t) => t >= keep);
  }

  /** Burst counts of the jobs that arrived in [from, to) (arrivals one boot before count too). */
  function burstsIn(from: number, to: number, boot: number): number[] {
    const times = arrivals.slice(firstAfter(arrivals, from - boot), firstAfter(arrivals, to, true));
    const counts = burstCounts(times, boot);
    return counts.filter((_c, i) => (times[i] ?? 0) >= from);
  }

  return {
    arrival(atMs) {
      revision++;
      firstMs = Math.min(firstMs ?? atMs, atMs);
      arrivals.push(atMs);
      if (arrivals.length > 1 && (arrivals.at(-2) ?? 0) > atMs) arrivals.sort((a, b) => a - b);
      dropOlderThan(atMs);
    },
    boot(provider, ms) {
      revision++;
      boots.add(provider, ms);
    },
    jobDone(ms) {
      revision++;
      durations.add(ms);
    },
    durations: () => durations.sorted(),
    revision: () => revision,
    snapshot: () => ({ arrivals: [...arrivals], firstMs, ...boots.snapshot(), durations: durations.list() }),
    restore(snap, nowMs) {
      revision++;
      arrivals = [...snap.arrivals, ...arrivals].sort((a, b) => a - b);
      dropOlderThan(nowMs);
      if (snap.firstMs !== null) firstMs = Math.min(firstMs ?? snap.firstMs, snap.firstMs);
      boots.restore(snap);
      durations.restore(snap.durations);
    },
    forecast(nowMs) {
      const boot = boots.bootMs();
      const lastUse = s.lastUseWithinMs;
      const bursts = burstsIn(nowMs - s.historyMs, nowMs + 1, boot);
      const lately = lastUse > 0 ? largest(burstsIn(nowMs - lastUse, nowMs + 1, boot)) : 0;
      /** Per earlier day, the largest burst of its coming bucket. */
      const earlierLargest: number[] = [];
      const first = firstMs ?? nowMs;
      // The manager watched the whole history span, jobs or not (a quiet start is not a short one).
      let spanMs = s.historyMs;
      // The same time of day on earlier days, from now to one bucket ahead.
      for (let d = 1; d <= s.days; d++) {
        const from = nowMs - d * DAY_MS;
        if (from < first) break;
        const earlier = burstsIn(from, from + s.bucketMs, boot);
        bursts.push(...earlier);
        earlierLargest.push(largest(earlier));
        spanMs += s.bucketMs;
      }
      bursts.sort((a, b) => a - b);
      const recentLargestBurst = lastUse > 0 ? Math.max(lately, onHalfTheDays(earlierLargest)) : 0;
      const meanJobMs = durations.mean();
      const recentJobs =
        s.trendMs > 0 ? firstAfter(arrivals, nowMs) - firstAfter(arrivals, nowMs - s.trendMs) : 0;
      return {
        bootMs: boot,
        jobs: bursts.length,
        bursts,
        spanMs,
        meanJobMs,
        recentJobs,
        trendMs: s.trendMs,
        recentLargestBurst,
      };
    },
  };
}
