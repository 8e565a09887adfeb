import { describe, expect, it } from 'vitest';

import type { JobStatus } from '../../../api/job-status.js';
import type { JobDefinition, NeedDefinition, TriggerDefinition } from '../../../pipeline/types.js';
import type { JobRecord } from '../../store/store.js';
import { planTransitions } from './plan-transitions.js';

let nextId = 1;

function job(
  name: string,
  stageIdx: number,
  status: JobStatus,
  opts: {
    when?: string;
    needs?: NeedDefinition[] | null;
    allowFailure?: boolean;
    trigger?: TriggerDefinition;
    resourceGroup?: string;
  } = {},
): JobRecord {
  const definition = {
    name,
    baseName: name,
    needs: opts.needs ?? null,
    allowFailureExitCodes: [],
    resourceGroup: opts.resourceGroup ?? null,
    ...(opts.trigger ? { trigger: opts.trigger } : {}),
  } as unknown as JobDefinition;
  return {
    id: nextId++,
    pipelineId: 1,
    projectId: 1,
    name,
    stage: `s${stageIdx}`,
    stageIdx,
    status,
    when: opts.when ?? 'on_success',
    allowFailure: opts.allowFailure ?? false,
    definition,
    tagList: [],
    protected: false,
    runnerId: null,
    runnerSystemId: null,
    tokenHash: null,
    retryOfId: null,
    retried: false,
    userId: 1,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    queuedAt: null,
    startedAt: null,
    finishedAt: null,
    lastSeenAt: null,
    timeoutSeconds: null,
    failureReason: null,
    exitCode: null,
    traceSize: 0,
    traceChecksum: null,
    coverage: null,
    erasedAt: null,
  };
}

function plan(jobs: JobRecord[]): Record<string, string> {
  const byId = new Map(jobs.map((j) => [j.id, j.name]));
  return Object.fromEntries(planTransitions(jobs).map((t) => [byId.get(t.jobId), t.to]));
}

describe('planTransitions', () => {
  it('queues the first stage and holds later ones', () => {
    expect(plan([job('a', 0, 'created'), job('b', 1, 'created')])).toEqual({ a: 'pending' });
  });

  it('queues the next stage once the previous succeeded', () => {
    expect(plan([job('a', 0, 'success'), job('b', 1, 'created')])).toEqual({ b: 'pending' });
  });

  it.each([
    ['on_success', 'skipped'],
    ['on_failure', 'pending'],
    ['always', 'pending'],
    ['manual', 'skipped'],
  ])('after a failure a %s job becomes %s', (when, to) => {
    expect(plan([job('a', 0, 'failed'), job('b', 1, 'created', { when })])).toEqual({ b: to });
  });

  it('an allowed failure lets the next stage run', () => {
    expect(plan([job('a', 0, 'failed', { allowFailure: true }), job('b', 1, 'created')])).toEqual({
      b: 'pending',
    });
  });

  it('on_failure jobs are skipped when everything passed', () => {
    expect(plan([job('a', 0, 'success'), job('b', 1, 'created', { when: 'on_failure' })])).toEqual({
      b: 'skipped',
    });
  });

  it('manual jobs become manual, and a blocking manual job holds later stages', () => {
    expect(plan([job('a', 0, 'created', { when: 'manual' })])).toEqual({ a: 'manual' });
    expect(plan([job('a', 0, 'manual'), job('b', 1, 'created')])).toEqual({});
    expect(plan([job('a', 0, 'manual', { allowFailure: true }), job('b', 1, 'created')])).toEqual({
      b: 'pending',
    });
  });

  it('needs start a job as soon as its needed jobs are done, regardless of stages', () => {
    const jobs = [
      job('a', 0, 'success'),
      job('slow', 0, 'running'),
      job('b', 1, 'created', { needs: [{ job: 'a', artifacts: true, optional: false }] }),
    ];
    expect(plan(jobs)).toEqual({ b: 'pending' });
  });

  it('needs: [] starts at once', () => {
    expect(plan([job('a', 0, 'running'), job('b', 2, 'created', { needs: [] })])).toEqual({ b: 'pending' });
  });

  it('a canceled predecessor skips on_success jobs but runs always jobs', () => {
    expect(
      plan([job('a', 0, 'canceled'), job('b', 1, 'created'), job('c', 1, 'created', { when: 'always' })]),
    ).toEqual({ b: 'skipped', c: 'pending' });
  });

  describe('bridges (trigger jobs)', () => {
    const trigger: TriggerDefinition = {
      include: ['child.yml'],
      strategy: 'depend',
      forward: { yamlVariables: true, pipelineVariables: false },
    };

    it('a bridge becomes pending when its stage is reached, even in a resource group', () => {
      expect(plan([job('a', 0, 'success'), job('child', 1, 'created', { trigger })])).toEqual({
        child: 'pending',
      });
      expect(plan([job('child', 0, 'created', { trigger, resourceGroup: 'prod' })])).toEqual({
        child: 'pending',
      });
      expect(plan([job('build', 0, 'created', { resourceGroup: 'prod' })])).toEqual({
        build: 'waiting_for_resource',
      });
    });

    it('a bridge follows when:, needs and failures like any job', () => {
      expect(plan([job('child', 0, 'created', { trigger, when: 'manual' })])).toEqual({ child: 'manual' });
      expect(plan([job('a', 0, 'failed'), job('child', 1, 'created', { trigger })])).toEqual({
        child: 'skipped',
      });
      const needs = [{ job: 'a', artifacts: false, optional: false }];
      expect(
        plan([
          job('a', 0, 'success'),
          job('slow', 0, 'running'),
          job('child', 1, 'created', { trigger, needs }),
        ]),
      ).toEqual({ child: 'pending' });
    });

    it('a running dependent bridge holds later stages; its failure skips them', () => {
      expect(plan([job('child', 0, 'running', { trigger }), job('after', 1, 'created')])).toEqual({});
      expect(plan([job('child', 0, 'failed', { trigger }), job('after', 1, 'created')])).toEqual({
        after: 'skipped',
      });
      expect(plan([job('child', 0, 'success', { trigger }), job('after', 1, 'created')])).toEqual({
        after: 'pending',
      });
    });
  });
});
