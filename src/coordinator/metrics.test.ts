import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { createQueueMetrics, queueDepthByRunnerType } from './metrics.js';

const runner = (
  runnerType: 'instance_type' | 'project_type',
  tagList: string[],
  extra: Partial<{ paused: boolean; runUntagged: boolean }> = {},
) => ({
  runnerType,
  tagList,
  runUntagged: extra.runUntagged ?? true,
  paused: extra.paused ?? false,
  accessLevel: 'not_protected' as const,
});

describe('queueDepthByRunnerType', () => {
  it('counts a pending job for each runner type with an active runner that may take it', () => {
    const pending = [
      { tagList: [], protected: false },
      { tagList: ['docker'], protected: false },
      { tagList: ['gpu'], protected: false },
    ];
    expect(
      queueDepthByRunnerType(pending, [
        runner('instance_type', ['docker']),
        runner('project_type', ['gpu'], { runUntagged: false }),
        runner('project_type', ['docker'], { paused: true }),
      ]),
    ).toEqual({ instance_type: 2, group_type: 0, project_type: 1 });
    expect(queueDepthByRunnerType(pending, [])).toEqual({ instance_type: 0, group_type: 0, project_type: 0 });
  });

  it('is served as flotilla_coordinator_queue_depth with every runner_type', async () => {
    const registry = new Registry();
    createQueueMetrics(registry, {
      countJobs: async () => 0,
      oldestPendingAgeSeconds: async () => 0,
      runnerManagers: () => 0,
      queueDepth: async () => ({ instance_type: 4, group_type: 0, project_type: 1 }),
    });
    const text = await registry.metrics();
    expect(text).toContain('flotilla_coordinator_queue_depth{runner_type="instance_type"} 4');
    expect(text).toContain('flotilla_coordinator_queue_depth{runner_type="group_type"} 0');
    expect(text).toContain('flotilla_coordinator_queue_depth{runner_type="project_type"} 1');
  });
});
