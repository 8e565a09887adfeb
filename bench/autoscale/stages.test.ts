import { describe, expect, it } from 'vitest';

import { createStageGate } from './stages.js';
import { generateWorkload, stageCount, stageWorkload, type WorkloadJob } from './workload.js';

/** Pipeline 1: stage 0 = jobs 0, 1; stage 1 = jobs 2, 3; stage 2 = job 4. Pipeline 2: one job. */
const pipeline: WorkloadJob[] = [
  { arrival: 0, duration: 50, pipeline: 1, stage: 0 },
  { arrival: 0, duration: 60, pipeline: 1, stage: 1 },
  { arrival: 0, duration: 60, pipeline: 1, stage: 1 },
  { arrival: 1, duration: 80, pipeline: 1, stage: 0 },
  { arrival: 1, duration: 30, pipeline: 1, stage: 2 },
  { arrival: 3, duration: 30, pipeline: 2 },
];

describe('stage gate', () => {
  it('releases a later stage only once every job of the previous stage has finished', () => {
    const gate = createStageGate(pipeline);
    expect(gate.due(0)).toEqual([0]);
    expect(gate.due(1)).toEqual([3]);
    expect(gate.due(3)).toEqual([5]);
    gate.finished(0);
    expect(gate.due(50)).toEqual([]);
    gate.finished(5);
    expect(gate.due(60)).toEqual([]);
    gate.finished(3);
    expect(gate.due(81)).toEqual([1, 2]);
    expect(gate.pendingAt(1)).toBe(81);
    expect(gate.pendingAt(4)).toBeUndefined();
    gate.finished(1);
    expect(gate.due(141)).toEqual([]);
    gate.finished(2);
    expect(gate.due(142)).toEqual([4]);
    expect(gate.pendingAt(4)).toBe(142);
  });

  it('announces the created jobs of started pipelines, and the next stage’s jobs its current one will not cover', () => {
    const gate = createStageGate(pipeline);
    expect(gate.announced()).toEqual({ created: 0, next: 0, uncovered: 0 });
    gate.due(0);
    // Stage 0 has two jobs (one not yet pending); stage 1 has two: their machines cover it.
    expect(gate.announced()).toEqual({ created: 3, next: 2, uncovered: 0 });
    gate.due(1);
    gate.finished(0);
    // One stage-0 job left: one of stage 1's jobs needs a machine it will not free.
    expect(gate.announced()).toEqual({ created: 3, next: 2, uncovered: 1 });
    gate.finished(3);
    gate.due(81);
    // Stage 1 is pending: stage 2's one job is covered by stage 1's two.
    expect(gate.announced()).toEqual({ created: 1, next: 1, uncovered: 0 });
    gate.finished(1);
    gate.finished(2);
    gate.due(142);
    expect(gate.announced()).toEqual({ created: 0, next: 0, uncovered: 0 });
  });

  it('says per started pipeline when its next stage may come: unfinished jobs and the youngest one’s age', () => {
    const gate = createStageGate(pipeline);
    gate.due(0);
    // Job 3 (stage 0) is not pending yet: the youngest unfinished job is 0 s old.
    expect(gate.announced(0).stages).toEqual([{ next: 2, unfinished: 2, elapsedMs: 0 }]);
    gate.due(1);
    gate.finished(0);
    // Jobs 0 (pending at 0, finished) and 3 (pending at 1): job 3 is 49 s old at 50.
    expect(gate.announced(50)).toEqual({
      created: 3,
      next: 2,
      uncovered: 1,
      stages: [{ next: 2, unfinished: 1, elapsedMs: 49_000 }],
    });
    gate.finished(3);
    gate.due(81);
    expect(gate.announced(100).stages).toEqual([{ next: 1, unfinished: 2, elapsedMs: 19_000 }]);
    gate.finished(1);
    gate.finished(2);
    gate.due(142);
    expect(gate.announced(142).stages).toEqual([]);
  });

  it('an unstaged day is pending at its arrivals, in order, and announces nothing', () => {
    const day = generateWorkload(3).slice(0, 200);
    const gate = createStageGate(day);
    const seen: number[] = [];
    for (let t = 0; t <= (day.at(-1)?.arrival ?? 0); t++) {
      for (const i of gate.due(t)) {
        expect(day[i]!.arrival).toBe(t);
        seen.push(i);
      }
      expect(gate.announced()).toEqual({ created: 0, next: 0, uncovered: 0 });
    }
    expect(seen).toEqual(day.map((_j, i) => i));
  });
});

describe('staged workload', () => {
  it('keeps the day’s jobs and gives each pipeline 1–4 stages, none of them empty', () => {
    const day = generateWorkload(7);
    const staged = stageWorkload(day, 1007);
    expect(staged.map(({ stage: _s, ...j }) => j)).toEqual(day);
    expect(stageWorkload(day, 1007)).toEqual(staged);
    const byPipeline = new Map<number, number[]>();
    for (const j of staged)
      byPipeline.set(j.pipeline, [...(byPipeline.get(j.pipeline) ?? []), j.stage ?? -1]);
    let multi = 0;
    for (const stages of byPipeline.values()) {
      const count = Math.max(...stages) + 1;
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(Math.min(4, stages.length));
      for (let s = 0; s < count; s++) expect(stages).toContain(s);
      if (count > 1) multi++;
    }
    // Single-job pipelines (about a quarter) have one stage; of the rest, 90 % have 2–4.
    expect(multi / byPipeline.size).toBeGreaterThan(0.5);
  });

  it('draws stage counts by STAGE_COUNT_PMF', () => {
    expect([0, 0.09, 0.1, 0.39, 0.4, 0.79, 0.8, 0.999].map(stageCount)).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });
});
