import { afterEach, describe, expect, it } from 'vitest';

import { silentLogger } from '../../../shared/logger.js';
import { newJob, newPipeline, newProject } from '../../../../test/kits/coordinator/store/conformance.js';
import { createMemoryStore } from '../../store/create-store.js';
import type { Store } from '../../store/store.js';
import { JobHeartbeats } from './heartbeats.js';

describe('JobHeartbeats', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it('writes the heartbeats of many calls in one store call, running jobs only', async () => {
    store = await createMemoryStore();
    const project = await store.createProject(newProject());
    const { jobs } = await store.createPipeline(newPipeline(project.id), [
      newJob('a', { status: 'running' }),
      newJob('b', { status: 'running' }),
      newJob('c', { status: 'success' }),
    ]);
    const [a, b, c] = jobs.map((j) => j.id) as [number, number, number];
    let writes = 0;
    const real = store;
    const heartbeats = new JobHeartbeats(
      {
        touchJobs: (ids, at) => {
          writes++;
          return real.touchJobs(ids, at);
        },
      },
      silentLogger(),
      60_000,
    );
    const t1 = new Date('2026-01-01T00:00:01Z');
    const t2 = new Date('2026-01-01T00:00:02Z');
    heartbeats.touch(a, t1);
    heartbeats.touch(b, t2);
    heartbeats.touch(a, t1);
    heartbeats.touch(c, t1);
    expect((await store.getJob(a))?.lastSeenAt).toBeNull();
    await heartbeats.flush();
    expect(writes).toBe(1);
    expect((await store.getJob(a))?.lastSeenAt).toEqual(t2);
    expect((await store.getJob(b))?.lastSeenAt).toEqual(t2);
    expect((await store.getJob(c))?.lastSeenAt).toBeNull();
    await heartbeats.flush();
    expect(writes).toBe(1);
    // A job that finished before its batch was written needs no write.
    heartbeats.touch(b, t2);
    heartbeats.forget(b);
    await heartbeats.flush();
    expect(writes).toBe(1);
  });
});
