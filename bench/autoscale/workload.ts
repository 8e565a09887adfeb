/**
 * A day of bursty CI job arrivals, seeded: pipelines arrive as a Poisson process whose rate
 * follows a working day (night trickle, morning ramp, lunch dip, afternoon peak); each pipeline
 * brings a burst of jobs within seconds; job durations are log-normal. Same seed, same day.
 */
export interface WorkloadJob {
  /** Seconds since midnight. */
  arrival: number;
  /** Seconds the job runs once it has a machine. */
  duration: number;
  pipeline: number;
  /**
   * Staged pipelines only (`stageWorkload`): the job's stage, 0 first. A job of stage k > 0 is
   * created with its pipeline (`arrival`) but becomes pending only once every job of stage k − 1
   * has finished; absent = pending at `arrival`.
   */
  stage?: number;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pipelines per hour at hour `h` (0–24) of a working day. */
export function pipelineRate(h: number): number {
  const bump = (center: number, width: number, height: number): number =>
    height * Math.exp(-(((h - center) / width) ** 2));
  return 2 + bump(10.5, 1.8, 40) + bump(15, 2.2, 45) - bump(12.5, 0.6, 20) + bump(17.5, 0.5, 15);
}

/** A flat day: the normal day's mean pipeline rate at every hour. */
export const flatRate = (): number => 15.5;

/**
 * A spiky day: a low base rate with ten 20-minute spikes at 10× it, at seeded times between 06:00
 * and 22:00.
 */
export function spikyRate(seed: number): (h: number) => number {
  const random = seededRandom(seed * 31 + 5);
  const spikes = Array.from({ length: 10 }, () => 6 + random() * 16);
  return (h) => (spikes.some((at) => h >= at && h < at + 1 / 3) ? 80 : 8);
}

/** Pipelines arrive at `rate(hour)` per hour (at most `maxRate`); same seed, same day. */
export function generateWorkload(
  seed = 7,
  rate: (h: number) => number = pipelineRate,
  maxRate = 80,
): WorkloadJob[] {
  const random = seededRandom(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const jobs: WorkloadJob[] = [];
  let t = 0;
  let pipeline = 0;
  // Thinning: candidate arrivals at the peak rate, kept with probability rate(t) / peak.
  for (;;) {
    t += (-Math.log(1 - random()) / maxRate) * 3600;
    if (t >= 86_400) break;
    if (random() > Math.max(0, rate(t / 3600)) / maxRate) continue;
    pipeline++;
    const size =
      random() < 0.15 ? 10 + Math.floor(random() * 21) : 1 + Math.floor(-Math.log(1 - random()) * 3);
    for (let k = 0; k < size; k++) {
      const duration = Math.min(3600, Math.max(10, Math.round(180 * Math.exp(0.9 * normal()))));
      jobs.push({ arrival: Math.round(t + random() * 5), duration, pipeline });
    }
  }
  return jobs.sort((a, b) => a.arrival - b.arrival || a.pipeline - b.pipeline);
}

export function toCsv(jobs: readonly WorkloadJob[]): string {
  return (
    ['arrival_s,duration_s,pipeline', ...jobs.map((j) => `${j.arrival},${j.duration},${j.pipeline}`)].join(
      '\n',
    ) + '\n'
  );
}

export function fromCsv(text: string): WorkloadJob[] {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [arrival, duration, pipeline] = line.split(',').map(Number);
      return { arrival: arrival ?? 0, duration: duration ?? 0, pipeline: pipeline ?? 0 };
    });
}

/** P(a pipeline has s stages), s = 1..4: most pipelines have 2–4 (build / test / deploy). */
export const STAGE_COUNT_PMF: readonly number[] = [0.1, 0.3, 0.4, 0.2];

/** Draws a stage count from STAGE_COUNT_PMF with `u` uniform in [0, 1). PURE. */
export function stageCount(u: number): number {
  let below = 0;
  for (let s = 0; s < STAGE_COUNT_PMF.length; s++) {
    below += STAGE_COUNT_PMF[s] ?? 0;
    if (u < below) return s + 1;
  }
  return STAGE_COUNT_PMF.length;
}

/**
 * The staged variant of a day: the same jobs (arrivals, durations, pipelines), grouped into stages.
 * Each pipeline draws a stage count from STAGE_COUNT_PMF (at most its job count); its jobs, in
 * arrival order, give each stage one job, and every further job goes to a stage drawn uniformly.
 * Seeded apart from the day (same seed, same stages). Jobs whose pipeline has one stage get stage 0.
 */
export function stageWorkload(jobs: readonly WorkloadJob[], seed: number): WorkloadJob[] {
  const random = seededRandom(seed * 7919 + 3);
  const byPipeline = new Map<number, number[]>();
  jobs.forEach((j, i) => byPipeline.set(j.pipeline, [...(byPipeline.get(j.pipeline) ?? []), i]));
  const stages = new Array<number>(jobs.length).fill(0);
  for (const indices of byPipeline.values()) {
    const count = Math.min(indices.length, stageCount(random()));
    indices.forEach((index, k) => void (stages[index] = k < count ? k : Math.floor(random() * count)));
  }
  return jobs.map((j, i) => ({ ...j, stage: stages[i] ?? 0 }));
}
