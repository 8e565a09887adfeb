/**
 * The fleet the autoscaler's unit tests drive: a provider group with failover after 30 s and no
 * creation throttle, a taskscaler for runner `r1` whose machines are ready as soon as the provider
 * says so, and ticks of a fake clock.
 */
import { silentLogger } from '../../../src/shared/logger.js';
import {
  createProviderGroup,
  type GroupMember,
  type ProviderGroup,
} from '../../../src/autoscaler/provider-group.js';
import {
  createTaskscaler,
  type Taskscaler,
  type TaskscalerOptions,
} from '../../../src/autoscaler/taskscaler.js';
import type { FakeClock } from '../fake-clock.js';

/** A provider group over `members`, initialised. */
export async function testProviderGroup(members: GroupMember[], clock: FakeClock): Promise<ProviderGroup> {
  const group = createProviderGroup({
    members,
    failoverAfterMs: 30_000,
    throttle: { limit: -1, burst: 10 },
    clock,
    logger: silentLogger(),
  });
  await group.init({ clock, logger: silentLogger() });
  return group;
}

export type TestTaskscalerOptions = Omit<TaskscalerOptions, 'runner' | 'timing' | 'readyCheck' | 'logger'>;

/** A taskscaler for runner `r1` with gitlab-runner's default timing and no ready check. */
export function testTaskscaler(o: TestTaskscalerOptions): Taskscaler {
  return createTaskscaler({
    ...o,
    runner: 'r1',
    timing: {
      readyTimeoutMs: 60_000,
      acquireTimeoutMs: 900_000,
      updateIntervalMs: 60_000,
      updateExpectingMs: 2_000,
      deletionRetryMs: 60_000,
    },
    readyCheck: async () => undefined,
    logger: silentLogger(),
  });
}

/** Ticks the taskscaler and advances the clock by 1 s, `limit` times or until `done`. */
export async function tickFleet(
  scaler: Taskscaler,
  clock: FakeClock,
  limit: number,
  done: () => boolean = () => false,
): Promise<void> {
  for (let i = 0; i < limit && !done(); i++) {
    await scaler.tick();
    await new Promise((r) => setImmediate(r));
    clock.advance(1000);
  }
}
