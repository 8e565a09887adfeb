/**
 * Several providers behind one `InstanceGroup`: ids become `<provider>/<id>`. Creation goes to the
 * primaries in order, then to unpaused backups. Each provider has its own token bucket and error
 * backoff, so one provider's quota trouble never stops the others or the manager.
 *
 * Failover: when every primary has failed (errors, or no capacity) for `failoverAfterMs`, the
 * backups are unpaused; with `failoverOnCapacity`, a primary whose last creation found no capacity
 * counts as failed at once, and what it could not create is asked of the backups in the same call.
 * Once a primary creates again (tried after its backoff) the backups are paused again (their
 * machines keep serving until removed by the idle policy). `setManual(name, paused)` overrides either way
 * (`flotilla fleet pause|unpause`).
 */
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import {
  ProviderError,
  providerErrorKind,
  type InstanceGroup,
  type ProviderDeps,
  type ProviderErrorKind,
} from './providers/provider.js';
import { exponentialBackoff, tokenBucket, type Backoff, type TokenBucket } from './throttle.js';

export interface GroupMember {
  name: string;
  group: InstanceGroup;
  backup: boolean;
}

export interface GroupOptions {
  members: GroupMember[];
  failoverAfterMs: number;
  /**
   * A primary that answers "no capacity" (`capacity`) counts as failed at once, without waiting
   * for `failoverAfterMs`: the creations it could not make go to the backups in the same call.
   */
  failoverOnCapacity?: boolean;
  /** Creations per second per provider (-1 = unlimited) and burst. */
  throttle: { limit: number; burst: number };
  clock: Clock;
  logger: Logger;
  onError?: (provider: string, operation: string, kind: ProviderErrorKind) => void;
}

interface Member extends GroupMember {
  bucket: TokenBucket;
  backoff: Backoff;
  failingSinceMs: number | null;
  /** Its last creation failed for lack of capacity (cleared by a success). */
  noCapacity: boolean;
  manual: boolean | null;
}

export interface ProviderGroup extends InstanceGroup {
  /** Manual pause (true), unpause (false) or automatic (null). */
  setManual(name: string, paused: boolean | null): void;
  /** Per provider: paused now, and why. */
  status(): { name: string; backup: boolean; paused: boolean; failing: boolean; backoff: boolean }[];
}

/** Some providers could not be listed: their machines were not reported (not gone). */
export class PartialUpdateError extends Error {
  readonly providers: string[];
  constructor(providers: string[]) {
    super(`could not list ${providers.join(', ')}`);
    this.name = 'PartialUpdateError';
    this.providers = providers;
  }
}

export function splitKey(key: string): { provider: string; id: string } {
  const i = key.indexOf('/');
  return { provider: key.slice(0, i), id: key.slice(i + 1) };
}

/** The members' health: failures with their backoff, recoveries, and the failover to the backups. */
function memberHealth(options: GroupOptions, members: readonly Member[]) {
  const { clock, logger } = options;
  let failedOver = false;
  const nowMs = (): number => clock.now().getTime();

  function paused(m: Member): boolean {
    if (m.manual !== null) return m.manual;
    return m.backup && !failedOver;
  }

  function failed(m: Member, operation: string, err: unknown): void {
    const kind = providerErrorKind(err);
    const delay = m.backoff.failure(nowMs(), err instanceof ProviderError ? err.retryAfterMs : undefined);
    m.failingSinceMs ??= nowMs();
    if (kind === 'capacity' && operation === 'increase') m.noCapacity = true;
    options.onError?.(m.name, operation, kind);
    logger.warn(
      { provider: m.name, operation, kind, err, backoffMs: delay },
      'provider call failed; backing off',
    );
  }

  function down(m: Member): boolean {
    if (options.failoverOnCapacity && m.noCapacity) return true;
    return m.failingSinceMs !== null && nowMs() - m.failingSinceMs >= options.failoverAfterMs;
  }

  function updateFailover(): void {
    const primaries = members.filter((m) => !m.backup && m.manual !== true);
    const allFailing = primaries.length === 0 || primaries.every(down);
    if (allFailing && !failedOver && members.some((m) => m.backup)) {
      failedOver = true;
      const reason = primaries.every((m) => options.failoverOnCapacity && m.noCapacity)
        ? 'no_capacity'
        : 'failover_after';
      logger.warn(
        { providers: members.filter((m) => m.backup).map((m) => m.name), reason },
        'primary providers failing: backups unpaused',
      );
    }
  }

  function recovered(m: Member): void {
    m.backoff.success();
    m.failingSinceMs = null;
    m.noCapacity = false;
    if (!m.backup && failedOver) {
      failedOver = false;
      logger.info({ provider: m.name }, 'primary provider recovered: backups paused again');
    }
  }

  return { nowMs, paused, failed, updateFailover, recovered };
}

/** Every member's machines, keyed `<provider>/<id>`; throws PartialUpdateError naming the members not listed. */
async function updateMembers(
  members: readonly Member[],
  report: Parameters<InstanceGroup['update']>[0],
  failed: (m: Member, operation: string, err: unknown) => void,
): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    members.map(async (m) => {
      const seen: Parameters<typeof report>[0][] = [];
      try {
        await m.group.update((i) => seen.push(i));
      } catch (err) {
        failed(m, 'update', err);
        failures.push(m.name);
        return;
      }
      for (const i of seen) report({ ...i, id: `${m.name}/${i.id}` });
    }),
  );
  if (failures.length > 0) throw new PartialUpdateError(failures);
}

type MemberHealth = ReturnType<typeof memberHealth>;

/** Creates up to `wanted` machines on one member, as its token bucket allows; keys of those created. */
async function increaseOn(m: Member, wanted: number, health: MemberHealth): Promise<string[]> {
  const { nowMs, failed, recovered } = health;
  const n = m.bucket.take(wanted, nowMs());
  if (n === 0) return [];
  try {
    const ids = await m.group.increase(n);
    if (ids.length < n) failed(m, 'increase', new ProviderError('capacity', `created ${ids.length} of ${n}`));
    else recovered(m);
    return ids.map((id) => `${m.name}/${id}`);
  } catch (err) {
    failed(m, 'increase', err);
    return err instanceof ProviderError ? err.created.map((id) => `${m.name}/${id}`) : [];
  }
}

/** Removes machines by key, each on its member; resolves the keys removed. */
async function decreaseMembers(
  keys: readonly string[],
  member: (key: string) => { m: Member; id: string },
  failed: MemberHealth['failed'],
): Promise<string[]> {
  const byMember = new Map<Member, string[]>();
  for (const key of keys) {
    const { m, id } = member(key);
    byMember.set(m, [...(byMember.get(m) ?? []), id]);
  }
  const done = await Promise.all(
    [...byMember].map(async ([m, ids]) => {
      try {
        return (await m.group.decrease(ids)).map((id) => `${m.name}/${id}`);
      } catch (err) {
        failed(m, 'decrease', err);
        return [];
      }
    }),
  );
  return done.flat();
}

export function createProviderGroup(options: GroupOptions): ProviderGroup {
  const { logger } = options;
  const members: Member[] = options.members.map((m) => ({
    ...m,
    bucket: tokenBucket(options.throttle.limit, options.throttle.burst),
    backoff: exponentialBackoff(),
    failingSinceMs: null,
    noCapacity: false,
    manual: null,
  }));
  const health = memberHealth(options, members);
  const { nowMs, paused, updateFailover } = health;

  function member(key: string): { m: Member; id: string } {
    const { provider, id } = splitKey(key);
    const m = members.find((x) => x.name === provider);
    if (!m) throw new Error(`no provider "${provider}" for machine ${key}`);
    return { m, id };
  }

  return {
    async init(deps: ProviderDeps) {
      for (const m of members) await m.group.init(deps);
      return { id: members.map((m) => m.name).join('+'), maxSize: 0, version: '1' };
    },
    update: (report) => updateMembers(members, report, health.failed),
    async increase(count) {
      updateFailover();
      const out: string[] = [];
      for (const m of members) {
        if (out.length >= count) break;
        updateFailover();
        if (paused(m) || m.backoff.blocked(nowMs())) {
          if (!m.backup && m.manual === true) m.failingSinceMs ??= nowMs();
          continue;
        }
        out.push(...(await increaseOn(m, count - out.length, health)));
      }
      updateFailover();
      return out;
    },
    decrease: (keys) => decreaseMembers(keys, member, health.failed),
    async connectInfo(key) {
      const { m, id } = member(key);
      return m.group.connectInfo(id);
    },
    async heartbeat(key) {
      const { m, id } = member(key);
      await m.group.heartbeat?.(id);
    },
    async shutdown() {
      await Promise.all(
        members.map((m) =>
          m.group.shutdown().catch((err: unknown) => logger.warn({ err }, 'provider shutdown failed')),
        ),
      );
    },
    setManual(name, value) {
      const m = members.find((x) => x.name === name);
      if (m && m.manual !== value) {
        m.manual = value;
        if (!m.backup && value === true) m.failingSinceMs ??= nowMs();
        if (!m.backup && value !== true) m.failingSinceMs = null;
        logger.info({ provider: name, paused: value }, 'provider pause changed by hand');
      }
    },
    status() {
      updateFailover();
      return members.map((m) => ({
        name: m.name,
        backup: m.backup,
        paused: paused(m),
        failing: m.failingSinceMs !== null,
        backoff: m.backoff.blocked(nowMs()),
      }));
    },
  };
}
