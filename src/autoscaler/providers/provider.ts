/**
 * The provider port, shaped like GitLab's fleeting plugins (`InstanceGroup`): a provider owns one
 * group of machines at some infrastructure and knows nothing about jobs. The autoscaler
 * (`taskscaler.ts`) decides how many machines there should be; a provider creates, lists and
 * deletes them.
 *
 * ## Lifecycle
 * 1. `init(deps)` once: checks settings and prepares what the group needs (networks, keys).
 * 2. `update(report)` lists the group and reports every machine's state (pull model; called every
 *    `update_interval`, or more often while a change is expected).
 * 3. `increase(n)` starts creating `n` machines; it may create fewer (partial success: quota,
 *    capacity) and reports the ids it started. Unlike fleeting (which returns a count), ids are
 *    returned so the manager can persist them before the machines are ready.
 * 4. `decrease(ids)` deletes machines; resolves the ids whose deletion succeeded.
 * 5. `connectInfo(id)` gives the machine's Docker endpoint; never cached by callers for long.
 * 6. `shutdown()` releases what `init` prepared; machines are NOT deleted by it.
 *
 * ## Rules
 * - Every method may throw; `ProviderError` with `kind: 'rate_limit' | 'capacity'` tells the caller
 *   to back off (and may trigger failover to a backup provider).
 * - A machine that vanished is reported as `deleted` or simply not reported.
 */
import type { z } from 'zod';

import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';

export type InstanceState = 'creating' | 'running' | 'deleting' | 'deleted' | 'timeout';

export interface InstanceReport {
  id: string;
  state: InstanceState;
  /** When the provider started creating it, if known. */
  createdAt?: Date;
}

export interface ProviderInfo {
  /** e.g. `local/flotilla-ci` */
  id: string;
  /** The most machines this group can hold (0 = no limit). */
  maxSize: number;
  version: string;
}

export interface DockerTls {
  /** Folder with ca.pem, cert.pem and key.pem (client certificate). */
  certPath: string;
}

export interface ConnectInfo {
  id: string;
  internalAddr: string;
  externalAddr: string;
  /** The machine's Docker Engine, e.g. `tcp://10.231.0.5:2375`. */
  dockerHost: string;
  /** Present when the engine requires TLS client certificates. */
  tls?: DockerTls;
  /** Prometheus exporters on the machine (`host:port`), listed by the manager's service discovery. */
  metricsTargets?: string[];
  /**
   * The machine's job networks have no route to the coordinator (an engine without NAT): the docker
   * executor then forwards the coordinator on each job network's gateway (`coordinator_forwarding`).
   */
  forwardCoordinator?: boolean;
  /** The machine's zone, when the provider has zones (a service discovery label). */
  zone?: string;
}

export interface ProviderDeps {
  logger: Logger;
  clock: Clock;
}

export interface InstanceGroup {
  init(deps: ProviderDeps): Promise<ProviderInfo>;
  update(report: (instance: InstanceReport) => void): Promise<void>;
  increase(count: number): Promise<string[]>;
  decrease(ids: readonly string[]): Promise<string[]>;
  connectInfo(id: string): Promise<ConnectInfo>;
  /** Optional cheap liveness check of one machine; throws when it is dead. */
  heartbeat?(id: string): Promise<void>;
  shutdown(): Promise<void>;
}

export interface ProviderFactory<C = unknown> {
  readonly name: string;
  /**
   * The `plugin_config` keys as docs/config.md documents them (the zod object the provider parses
   * with, every key `.describe()`d) and one line of where to read more.
   */
  readonly configDocs?: { readonly schema: z.AnyZodObject; readonly intro: string };
  /** Validates the raw `plugin_config` table; throws with a readable message. */
  parseConfig(raw: unknown, context: { runnerName: string }): C;
  create(config: C): InstanceGroup;
}

export type ProviderErrorKind = 'rate_limit' | 'capacity' | 'api' | 'timeout';

const KINDS: ReadonlySet<unknown> = new Set<ProviderErrorKind>(['rate_limit', 'capacity', 'api', 'timeout']);

/**
 * An error of the infrastructure's API, classified for backoff and failover. A provider plugin
 * (`plugins.ts`) may carry its own copy of this class: `instanceof ProviderError` also accepts any
 * `Error` with a known `kind` and a `created` array, whichever copy made it.
 */
export class ProviderError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // Subclasses (a cloud's API error) are checked the ordinary way only.
    if (this !== ProviderError || !(value instanceof Error)) return false;
    const v = value as Partial<ProviderError>;
    return KINDS.has(v.kind) && Array.isArray(v.created);
  }

  readonly kind: ProviderErrorKind;
  /** Machines started before the error (partial success of `increase`). */
  readonly created: string[];
  /**
   * How long the API asked callers to wait (a 429's or 503's `Retry-After`, in milliseconds): the
   * provider group makes no call to this provider before then (its backoff is at least this long).
   */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: ProviderErrorKind,
    message: string,
    options: { cause?: unknown; created?: string[]; retryAfterMs?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.created = options.created ?? [];
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The error kind of anything a provider threw. */
export function providerErrorKind(err: unknown): ProviderErrorKind {
  return err instanceof ProviderError ? err.kind : 'api';
}
