import { afterEach, describe, expect, it } from 'vitest';

import { cachingStore, type CacheBus, type CacheMessage } from './caching-store.js';
import {
  claimOf,
  matchOf,
  newJob,
  newPipeline,
  newProject,
  newRunner,
} from '../../../test/kits/coordinator/store/conformance.js';
import { createMemoryStore } from './create-store.js';
import type { Store } from './store.js';

/** Counts the calls that reach the real store. */
function counted(store: Store): { store: Store; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

function memoryBus(): CacheBus & {
  sent: CacheMessage[];
  deliver(m: CacheMessage | { kind: string }): void;
} {
  const handlers: ((m: CacheMessage | { kind: string }) => void)[] = [];
  const sent: CacheMessage[] = [];
  return {
    sent,
    publish: (m) => sent.push(m),
    subscribe: (h) => handlers.push(h),
    deliver: (m) => handlers.forEach((h) => h(m)),
  };
}

describe('cachingStore', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  async function setup(now = () => 0) {
    const raw = await createMemoryStore();
    stores.push(raw);
    const { store, calls } = counted(raw);
    const bus = memoryBus();
    return { raw, cached: cachingStore(store, { bus, now, ttlMs: 1000 }), calls, bus };
  }

  it('reads a runner by token once, and keeps the row an update here wrote', async () => {
    const { raw, cached, calls, bus } = await setup();
    // Created elsewhere (another coordinator): read once here.
    const runner = await raw.createRunner(newRunner('r'));
    expect((await cached.findRunnerByTokenHash(runner.tokenHash))?.id).toBe(runner.id);
    await cached.findRunnerByTokenHash(runner.tokenHash);
    expect(calls.get('findRunnerByTokenHash')).toBe(1);
    await cached.updateRunner(runner.id, { paused: true });
    // The written row replaced the entry: no read needed.
    expect((await cached.findRunnerByTokenHash(runner.tokenHash))?.paused).toBe(true);
    expect(calls.get('findRunnerByTokenHash')).toBe(1);
    expect(bus.sent).toContainEqual({ kind: 'cache', entity: 'runner', id: runner.id });
  });

  it('drops an entry when another coordinator says it changed, and when it expires', async () => {
    let clock = 0;
    const { raw, cached, calls, bus } = await setup(() => clock);
    const runner = await raw.createRunner(newRunner('r'));
    await cached.findRunnerByTokenHash(runner.tokenHash);
    await raw.updateRunner(runner.id, { paused: true });
    expect((await cached.findRunnerByTokenHash(runner.tokenHash))?.paused).toBe(false);
    bus.deliver({ kind: 'cache', entity: 'runner', id: runner.id });
    expect((await cached.findRunnerByTokenHash(runner.tokenHash))?.paused).toBe(true);
    await raw.updateRunner(runner.id, { paused: false });
    clock = 1000;
    expect((await cached.findRunnerByTokenHash(runner.tokenHash))?.paused).toBe(false);
    expect(calls.get('findRunnerByTokenHash')).toBe(3);
  });

  it('keeps a found user past the expiry (users never change), and never caches a user not found', async () => {
    let clock = 0;
    const { raw, cached, calls } = await setup(() => clock);
    const root = await raw.ensureRootUser();
    expect(await cached.getUser(root.id)).toEqual(root);
    clock = 1_000_000;
    expect(await cached.getUser(root.id)).toEqual(root);
    expect(await cached.getUser(4242)).toBeNull();
    expect(await cached.getUser(4242)).toBeNull();
    expect(calls.get('getUser')).toBe(3);
  });

  it('drops every entry when the bus says messages may have been missed (kind "all")', async () => {
    const { raw, cached, calls, bus } = await setup();
    const runner = await raw.createRunner(newRunner('r'));
    await cached.findRunnerByTokenHash(runner.tokenHash);
    await raw.updateRunner(runner.id, { paused: true });
    expect((await cached.findRunnerByTokenHash(runner.tokenHash))?.paused).toBe(false);
    bus.deliver({ kind: 'all' });
    expect((await cached.findRunnerByTokenHash(runner.tokenHash))?.paused).toBe(true);
    expect(calls.get('findRunnerByTokenHash')).toBe(2);
  });

  it('does not cache a read that was in flight while its kind was invalidated', async () => {
    const { raw, cached, calls, bus } = await setup();
    const runner = await raw.createRunner(newRunner('r'));
    const stale = cached.findRunnerByTokenHash(runner.tokenHash);
    await raw.updateRunner(runner.id, { paused: true });
    bus.deliver({ kind: 'cache', entity: 'runner', id: runner.id });
    await stale;
    expect((await cached.findRunnerByTokenHash(runner.tokenHash))?.paused).toBe(true);
    expect(calls.get('findRunnerByTokenHash')).toBe(2);
  });

  it("caches a read that was in flight while another runner's entry was invalidated", async () => {
    const { raw, cached, calls, bus } = await setup();
    const runner = await raw.createRunner(newRunner('r'));
    const other = await raw.createRunner(newRunner('other'));
    const read = cached.findRunnerByTokenHash(runner.tokenHash);
    bus.deliver({ kind: 'cache', entity: 'runner', id: other.id });
    await read;
    await cached.findRunnerByTokenHash(runner.tokenHash);
    expect(calls.get('findRunnerByTokenHash')).toBe(1);
  });

  it('shares one read among concurrent misses of a token, and reads again after an invalidation', async () => {
    const { raw, cached, calls, bus } = await setup();
    const runner = await raw.createRunner(newRunner('r'));
    const first = cached.findRunnerByTokenHash(runner.tokenHash);
    const second = cached.findRunnerByTokenHash(runner.tokenHash);
    bus.deliver({ kind: 'cache', entity: 'runner', id: runner.id });
    const third = cached.findRunnerByTokenHash(runner.tokenHash);
    await Promise.all([first, second, third]);
    expect(calls.get('findRunnerByTokenHash')).toBe(2);
  });

  it('forgets an unknown token once a runner with it is created, and keeps the row it created', async () => {
    const { cached, calls, bus } = await setup();
    const input = newRunner('r');
    expect(await cached.findRunnerByTokenHash(input.tokenHash)).toBeNull();
    const runner = await cached.createRunner(input);
    expect(await cached.findRunnerByTokenHash(input.tokenHash)).toEqual(runner);
    expect(calls.get('findRunnerByTokenHash')).toBe(1);
    // Other coordinators are told to drop what they cached for it (an unknown token).
    expect(bus.sent).toContainEqual({ kind: 'cache', entity: 'runner', id: runner.id });
  });

  it('caches variables per project until one of them changes', async () => {
    const { raw, cached, calls } = await setup();
    const project = await raw.createProject(newProject());
    const variable = {
      projectId: project.id,
      key: 'K',
      value: 'v',
      variableType: 'env_var' as const,
      protected: false,
      masked: false,
      raw: false,
      environmentScope: '*',
      description: null,
    };
    expect(await cached.listVariables(project.id)).toEqual([]);
    await cached.createVariable(variable);
    expect(await cached.listVariables(project.id)).toEqual([variable]);
    await cached.listVariables(project.id);
    expect(calls.get('listVariables')).toBe(2);
    await cached.updateVariable(project.id, 'K', '*', { value: 'w' });
    expect((await cached.listVariables(project.id))[0]?.value).toBe('w');
    expect(await cached.getProject(project.id)).toEqual(project);
    await cached.getProject(project.id);
    expect(calls.get('getProject')).toBe(1);
  });

  async function claimedJob(raw: Store, cached: Store, token: string) {
    const project = await raw.createProject(newProject());
    const runner = await raw.createRunner(newRunner('r'));
    const { jobs } = await raw.createPipeline(newPipeline(project.id), [newJob('a', { status: 'pending' })]);
    const claimed = await cached.claimPendingJob(matchOf({ runnerId: runner.id }), claimOf(token));
    expect(claimed?.id).toBe(jobs[0]?.id);
    return claimed!;
  }

  it('keeps the job a claim returned for its token, with its trace size, until it finishes', async () => {
    const { raw, cached, calls, bus } = await setup();
    const job = await claimedJob(raw, cached, 'tok-a');
    expect((await cached.findJobByTokenHash('tok-a'))?.id).toBe(job.id);
    expect(await cached.appendTrace(job.id, 0, Buffer.from('hello'))).toEqual({ ok: true, size: 5 });
    expect((await cached.findJobByTokenHash('tok-a'))?.traceSize).toBe(5);
    expect(calls.get('findJobByTokenHash')).toBeUndefined();
    // A patch that changes neither status nor token replaces the entry and tells no one.
    await cached.updateJob(job.id, { coverage: 50 });
    expect((await cached.findJobByTokenHash('tok-a'))?.coverage).toBe(50);
    expect(bus.sent).toEqual([]);
    await cached.updateJob(job.id, { status: 'success', tokenHash: null }, ['running']);
    expect(bus.sent).toContainEqual({ kind: 'cache', entity: 'job', id: job.id });
    expect(await cached.findJobByTokenHash('tok-a')).toBeNull();
    expect(calls.get('findJobByTokenHash')).toBe(1);
  });

  it('drops a job when another coordinator changed its status', async () => {
    const { raw, cached, calls, bus } = await setup();
    const job = await claimedJob(raw, cached, 'tok-b');
    await raw.updateJob(job.id, { status: 'canceling' }, ['running']);
    expect((await cached.findJobByTokenHash('tok-b'))?.status).toBe('running');
    bus.deliver({ kind: 'cache', entity: 'job', id: job.id });
    expect((await cached.findJobByTokenHash('tok-b'))?.status).toBe('canceling');
    await raw.updateJob(job.id, { status: 'canceled' }, ['canceling']);
    bus.deliver({ kind: 'cache', entity: 'job', id: 0 });
    expect((await cached.findJobByTokenHash('tok-b'))?.status).toBe('canceled');
    expect(calls.get('findJobByTokenHash')).toBe(2);
  });
});
