/**
 * The Docker Engine of a cloud machine, as every cloud provider reaches it: the connection a job
 * uses (address, TLS, coordinator forwarding, node exporter), the heartbeat that asks it, and the
 * user data that makes its TLS files when the manager makes them (`tls = true`, machine-tls.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { pingEngine } from './local/engine-ping.js';
import { tlsUserData, tlsUserDataProblem } from './machine-tls-script.js';
import { ensureManagerTls, machineIssuer } from './machine-tls.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { ConnectInfo, ProviderDeps } from './provider.js';

/** The engine keys every cloud provider's `plugin_config` shares. */
export interface EngineSettings {
  docker_port?: number | undefined;
  docker_tls_cert_path?: string | undefined;
  tls: boolean;
  tls_dir: string;
  forward_coordinator: boolean;
  node_exporter_port: number;
}

/** The engines' port: `docker_port`, else 2376 with `tls`, else 2375. PURE. */
export function enginePort(s: EngineSettings): number {
  return s.docker_port ?? (s.tls ? 2376 : 2375);
}

/** The client certificate folder (ca.pem, cert.pem, key.pem) of the engines, or null for plain TCP. PURE. */
export function engineCertPath(s: EngineSettings): string | null {
  if (s.tls) return join(s.tls_dir, 'client');
  return s.docker_tls_cert_path ?? null;
}

/** Why the engine keys do not go together, or null. PURE. */
export function engineSettingsProblem(s: EngineSettings): string | null {
  if (s.tls && s.docker_tls_cert_path)
    return 'set tls (certificates made by the manager) or docker_tls_cert_path (your own), not both';
  return null;
}

/**
 * Throws, prefixed with `cloud`, when the engine keys do not go together or `user` (the user data
 * key `userKey`) cannot follow the TLS boot lines.
 */
export function checkEngineSettings(cloud: string, s: EngineSettings, userKey: string, user?: string): void {
  const problem = engineSettingsProblem(s) ?? (s.tls ? tlsUserDataProblem(user, userKey) : null);
  if (problem) throw new Error(`${cloud}: ${problem}`);
}

/** How a job reaches machine `id`'s engine at `address`. */
export function engineConnectInfo(
  id: string,
  address: string,
  s: EngineSettings,
  zone?: string,
): ConnectInfo {
  const certPath = engineCertPath(s);
  return {
    id,
    internalAddr: address,
    externalAddr: address,
    dockerHost: `tcp://${address}:${enginePort(s)}`,
    ...(certPath ? { tls: { certPath } } : {}),
    ...(s.forward_coordinator ? { forwardCoordinator: true } : {}),
    ...(s.node_exporter_port > 0 ? { metricsTargets: [`${address}:${s.node_exporter_port}`] } : {}),
    ...(zone ? { zone } : {}),
  };
}

/** Whether the engine at `address` answers `/_ping` (over TLS when the settings say so). */
export function machineEngineAnswers(address: string, s: EngineSettings): Promise<boolean> {
  return pingEngine(address, enginePort(s), engineCertPath(s));
}

/** Throws, naming `what`, when the engine at `address` does not answer its ping. */
export async function requireEngine(address: string, s: EngineSettings, what: string): Promise<void> {
  if (!(await machineEngineAnswers(address, s))) throw new Error(`${what} does not answer`);
}

/**
 * The port's `connectInfo` and `heartbeat` of a machine with an engine: `address` finds a
 * machine's address, `noun` names a machine in errors and `zoneOf` gives its zone, if any.
 */
export function engineMachineCalls(
  s: EngineSettings,
  address: (id: string) => Promise<string>,
  noun: string,
  zoneOf: (id: string) => string | undefined,
): { connectInfo(id: string): Promise<ConnectInfo>; heartbeat(id: string): Promise<void> } {
  return {
    async connectInfo(id) {
      return engineConnectInfo(id, await address(id), s, zoneOf(id));
    },
    async heartbeat(id) {
      await requireEngine(await address(id), s, `${noun} ${id}`);
    },
  };
}

/**
 * A factory's `parseConfig` for a cloud with an engine: parses with `schema`, then checks the
 * engine keys and the user data `userOf` (key `userKey`) as `checkEngineSettings`.
 */
export function parseEngineProviderConfig<C extends EngineSettings>(
  cloud: string,
  schema: { parse(raw: unknown): C },
  userKey: string,
  userOf: (config: C) => string | undefined,
): (raw: unknown, context: { runnerName: string }) => { config: C; runnerName: string } {
  return (raw, context) => {
    const config = schema.parse(raw ?? {});
    checkEngineSettings(cloud, config, userKey, userOf(config));
    return { config, runnerName: context.runnerName };
  };
}

/** Makes the manager's CA and client certificate when `tls` is on (once; init calls it). */
async function prepareEngineTls(s: EngineSettings): Promise<void> {
  if (s.tls) await ensureManagerTls(s.tls_dir);
}

/**
 * The user data (or startup script) of machine `machine`: `user` as configured, or with `tls` the
 * boot lines that make its engine's TLS files in front of it. `publicIpCommand` prints the
 * machine's public IPv4 address from the cloud's metadata server (when the manager uses it).
 */
export async function machineUserData(
  s: EngineSettings,
  machine: string,
  user: string | undefined,
  publicIpCommand?: string,
): Promise<string | undefined> {
  if (!s.tls) return user;
  await ensureManagerTls(s.tls_dir);
  const issuer = await machineIssuer(s.tls_dir, machine);
  const caPem = await readFile(join(s.tls_dir, 'ca.pem'), 'utf8');
  return tlsUserData({ caPem, issuer, machine, publicIpCommand }, user);
}

/** What a cloud provider's `init` sets up: its logger, its clock, its API client. */
export interface CloudProviderRuntime<A> {
  logger: Logger;
  now: () => Date;
  api: A;
}

/** A cloud provider's `init`: a logger for the group, the clock, the API client and the engine's TLS files. */
export async function initCloudProvider<C extends EngineSettings, A>(
  deps: ProviderDeps,
  o: { provider: string; group: string; config: C; api: (config: C, clock: Clock) => A | Promise<A> },
): Promise<CloudProviderRuntime<A>> {
  const logger = deps.logger.child({ provider: o.provider, group: o.group });
  const api = await o.api(o.config, deps.clock);
  await prepareEngineTls(o.config);
  return { logger, now: () => deps.clock.now(), api };
}
