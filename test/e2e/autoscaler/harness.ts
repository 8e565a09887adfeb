/**
 * Harness of the autoscaler's end-to-end tests: real machines of the `local` provider (network
 * namespaces with their own Docker Engine), the test registry as their mirror, jobs run through the
 * real stage runner. Everything a test creates is removed afterwards, also when it fails; a missing
 * environment fails loudly.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { Registry } from 'prom-client';

import {
  autoscalerConfigSchema,
  type AutoscalerConfigInput,
} from '../../../src/autoscaler/autoscaler-config.js';
import { createDockerAutoscalerExecutorFactory } from '../../../src/autoscaler/docker-autoscaler-executor.js';
import { createFleet, type Fleet } from '../../../src/autoscaler/fleet.js';
import { createLocalProvider } from '../../../src/autoscaler/providers/local/local-provider.js';
import { localProviderConfigSchema } from '../../../src/autoscaler/providers/local/local-provider-config.js';
import { listNamespaces, deleteBridge } from '../../../src/autoscaler/providers/local/netns.js';
import { controlPath, defaultStatePath } from '../../../src/autoscaler/state-store.js';
import type { ExecutorFactory } from '../../../src/executors/executor.js';
import { systemClock } from '../../../src/shared/clock.js';
import { createLogger } from '../../../src/shared/logger.js';
import { dockerEnv, VERSION } from '../docker/harness.js';

export const RUN_DIR = '/run/flotilla-e2e';

/** A subnet for one test file, from its group name. */
export function subnetFor(group: string): string {
  let h = 0;
  for (const ch of group) h = (h * 31 + ch.charCodeAt(0)) % 100;
  return `10.231.${100 + h}.0/24`;
}

export interface TestFleetOptions {
  group: string;
  autoscaler?: Partial<AutoscalerConfigInput>;
  /** Extra `plugin_config` keys. */
  local?: Record<string, unknown>;
  /** Another provider than `local`, with its whole `plugin_config` (machines still on `group`'s subnet). */
  cloud?: { plugin: string; pluginConfig: Record<string, unknown> };
  dir?: string;
}

export interface TestFleet {
  fleet: Fleet;
  factory: ExecutorFactory;
  registry: Registry;
  dir: string;
  statePath: string;
}

export function localConfig(
  group: string,
  dir: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: group,
    subnet: subnetFor(group),
    registry_mirrors: ['http://127.0.0.1:5000'],
    state_dir: join(dir, 'machines'),
    run_dir: RUN_DIR,
    ...extra,
  };
}

export function hostAddress(group: string): string {
  return subnetFor(group).replace(/\.0\/24$/, '.1');
}

const verbose = process.env.FLOTILLA_E2E_LOG === '1';

/** The fleet's last log lines (debug level), kept in memory and shown when `eventually` gives up. */
const LOG_TAIL_LINES = 200;
const logTail: string[] = [];
const tailStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line) logTail.push(line);
    }
    logTail.splice(0, Math.max(0, logTail.length - LOG_TAIL_LINES));
    done();
  },
});

export async function startTestFleet(o: TestFleetOptions): Promise<TestFleet> {
  dockerEnv();
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), `flotilla-as-${o.group}-`));
  const configPath = join(dir, 'config.toml');
  const statePath = defaultStatePath(configPath, o.group);
  const config = autoscalerConfigSchema.parse({
    plugin: o.cloud?.plugin ?? 'local',
    plugin_config: o.cloud?.pluginConfig ?? localConfig(o.group, dir, o.local),
    update_interval: '5s',
    update_interval_when_expecting: '1s',
    instance_ready_timeout: '90s',
    deletion_retry_interval: '2s',
    cleaner: { interval: 0 },
    ...o.autoscaler,
  });
  const registry = new Registry();
  const logger = createLogger({
    level: 'debug',
    format: 'text',
    ...(verbose ? {} : { destination: tailStream }),
  });
  const fleet = createFleet({
    runnerName: o.group,
    config,
    statePath,
    controlPath: controlPath(configPath),
    clock: systemClock,
    logger,
    registry,
  });
  await fleet.start();
  const factory = createDockerAutoscalerExecutorFactory({
    scaler: fleet.scaler,
    docker: {
      pull_policy: 'if-not-present',
      helper_image: `${hostAddress(o.group)}:5000/flotilla-helper:${VERSION}`,
    },
    logger,
    registry,
    clock: systemClock,
    version: VERSION,
  });
  return { fleet, factory, registry, dir, statePath };
}

/** Removes every machine, the bridge and the files of a group, whatever state they are in. */
export async function destroyGroup(
  group: string,
  dir: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const provider = createLocalProvider({
    config: localProviderConfigSchema.parse(localConfig(group, dir, extra)),
    runnerName: group,
  });
  const ids = await listNamespaces(`flotilla-${group}-`);
  if (ids.length > 0) await provider.decrease(ids);
  await deleteBridge(`flbr-${group}`).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

/** Polls `check` every 500 ms, at most `attempts` times. */
export async function eventually<T>(
  what: string,
  attempts: number,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`gave up waiting for ${what} after ${attempts} attempts${fleetLogTail()}`);
}

/** The fleet's last log lines, for a failure message ('' when there are none). */
export function fleetLogTail(): string {
  return logTail.length > 0 ? `\nlast fleet log lines:\n${logTail.join('\n')}` : '';
}

export function namespaces(group: string): Promise<string[]> {
  return listNamespaces(`flotilla-${group}-`);
}

/** Fails loudly when the tools the local provider needs are missing. */
export function requireTools(): void {
  for (const tool of ['ip', 'nsenter', 'dockerd', 'openssl', 'socat']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    } catch {
      throw new Error(`${tool} is required for the autoscaler e2e tests (run scripts/netns-env.sh)`);
    }
  }
}
