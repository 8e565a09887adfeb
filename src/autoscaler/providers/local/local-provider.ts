/**
 * The `local` provider: machines are network namespaces on this Linux host, each with its own address
 * on a private /24 and its own Docker Engine on TCP (see readme.md). Creation runs in parallel;
 * engines are detached from the manager so a restarted manager adopts them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Logger } from '../../../shared/logger.js';
import { silentLogger } from '../../../shared/logger.js';
import type { ConnectInfo, InstanceGroup, InstanceReport, ProviderFactory } from '../provider.js';
import { ProviderError } from '../provider.js';
import { removeEach, settleAll } from '../batch.js';
import { ensureGroupCerts, machineServerCerts } from './certs.js';
import { removeMachineFiles, startDockerd, stopMachineProcesses } from './dockerd.js';
import { pingEngine } from './engine-ping.js';
import {
  localLayout,
  localProviderConfigSchema,
  machineNames,
  machineNumber,
  type LocalLayout,
  type LocalProviderConfig,
} from './local-provider-config.js';
import {
  createMachineNetwork,
  deleteBridge,
  deleteMachineNetwork,
  ensureBridge,
  listNamespaces,
  namespaceCreatedAt,
  pidsInNamespace,
} from './netns.js';
import {
  ensureNodeExporter,
  nodeExporterTarget,
  startNodeExporter,
  stopNodeExporter,
} from './node-exporter.js';
import { startForwarder, type Forwarder } from './registry-forwarder.js';
import { startHostPortForwarders } from './host-port-forwarder.js';

export interface LocalProviderOptions {
  config: LocalProviderConfig;
  runnerName: string;
}

interface Paths {
  dir: string;
  runDir: string;
}

function paths(config: LocalProviderConfig, id: string): Paths {
  return { dir: join(config.state_dir, id), runDir: join(config.run_dir, id) };
}

/** Creates one machine; on failure removes what it made and rethrows. */
async function createMachine(
  ctx: { config: LocalProviderConfig; layout: LocalLayout; mirrors: string[]; certDir: string | null },
  n: number,
): Promise<string> {
  const { config, layout } = ctx;
  const m = machineNames(layout, n);
  const p = paths(config, m.id);
  try {
    await createMachineNetwork({
      namespace: m.id,
      hostVeth: m.hostVeth,
      bridge: layout.bridge,
      cidr: `${m.address}/24`,
      gateway: layout.hostAddress,
    });
    const tlsDir = ctx.certDir ? await machineServerCerts(ctx.certDir, p.dir, m.address) : undefined;
    const mirrorHosts = ctx.mirrors.filter((u) => u.startsWith('http:')).map((u) => new URL(u).host);
    await startDockerd({
      namespace: m.id,
      ...p,
      address: m.address,
      port: layout.port,
      storageDriver: config.storage_driver,
      registryMirrors: ctx.mirrors,
      insecureRegistries: [...new Set([...mirrorHosts, ...config.insecure_registries])],
      ...(tlsDir ? { tlsDir } : {}),
    });
    if (config.node_exporter)
      await startNodeExporter({ namespace: m.id, ...p, address: m.address, port: config.node_exporter_port });
    const forwarded = { namespace: m.id, dir: p.dir, address: m.address, hostAddress: layout.hostAddress };
    await startHostPortForwarders(forwarded, config.forward_host_ports);
    await writeFile(
      join(p.dir, 'machine.json'),
      JSON.stringify({ id: m.id, address: m.address, createdAt: new Date() }),
    );
    return m.id;
  } catch (err) {
    await destroyMachine(config, layout, m.id).catch(() => undefined);
    throw err;
  }
}

async function destroyMachine(config: LocalProviderConfig, layout: LocalLayout, id: string): Promise<void> {
  const n = machineNumber(layout, id);
  if (n === null) throw new Error(`${id} is not a machine of group ${layout.group}`);
  const p = paths(config, id);
  await stopNodeExporter(p.runDir);
  await stopMachineProcesses({ namespace: id, runDir: p.runDir });
  await deleteMachineNetwork(id, machineNames(layout, n).hostVeth);
  await removeMachineFiles(p.runDir);
  await removeMachineFiles(p.dir);
}

/** Removes machine `id`, holding its number in `removing` until every part of it is gone. */
async function destroyHeld(
  config: LocalProviderConfig,
  layout: LocalLayout,
  removing: Set<number>,
  id: string,
): Promise<string> {
  const n = machineNumber(layout, id);
  if (n !== null) removing.add(n);
  try {
    await destroyMachine(config, layout, id);
    return id;
  } finally {
    if (n !== null) removing.delete(n);
  }
}

async function machineCreatedAt(config: LocalProviderConfig, id: string): Promise<Date | null> {
  try {
    const meta = JSON.parse(await readFile(join(paths(config, id).dir, 'machine.json'), 'utf8')) as {
      createdAt: string;
    };
    return new Date(meta.createdAt);
  } catch {
    return namespaceCreatedAt(id);
  }
}

/** Starts a forwarder for each registry mirror that needs one; `into` gets the forwarders and the mirrors machines use. */
async function startMirrors(
  registryMirrors: readonly string[],
  hostAddress: string,
  into: { forwarders: Forwarder[]; mirrors: string[] },
): Promise<void> {
  for (const mirror of registryMirrors) {
    const f = await startForwarder(mirror, hostAddress);
    if (f) into.forwarders.push(f);
    into.mirrors.push(f ? f.mirror : mirror);
  }
}

/**
 * Up to `count` machine numbers (2 to 254) that no machine being created or removed and no existing
 * namespace holds, keeping the group within `maxSize`. A number is free again only once its removal
 * has finished: its namespace goes before its files, and a new machine must not get the old one's
 * key (the taskscaler still tracks it) or directory (the removal would delete the new files).
 */
async function freeNumbers(
  layout: LocalLayout,
  busy: { creating: ReadonlySet<number>; removing: ReadonlySet<number> },
  count: number,
  maxSize: number,
): Promise<number[]> {
  const used = new Set([
    ...busy.creating,
    ...busy.removing,
    ...(await listNamespaces(layout.prefix)).map((id) => machineNumber(layout, id)),
  ]);
  const free: number[] = [];
  for (let n = 2; n <= 254 && free.length < count && used.size + free.length < maxSize; n++) {
    if (!used.has(n)) free.push(n);
  }
  return free;
}

/** How a job reaches machine `id`'s engine (and its node exporter). */
function machineConnectInfo(
  config: LocalProviderConfig,
  layout: LocalLayout,
  id: string,
  certDir: string | null,
): ConnectInfo {
  const n = machineNumber(layout, id);
  if (n === null) throw new Error(`${id} is not a machine of group ${layout.group}`);
  const { address } = machineNames(layout, n);
  const scheme = 'tcp';
  return {
    id,
    internalAddr: address,
    externalAddr: address,
    dockerHost: `${scheme}://${address}:${layout.port}`,
    forwardCoordinator: true,
    ...(config.node_exporter
      ? { metricsTargets: [nodeExporterTarget({ address, port: config.node_exporter_port })] }
      : {}),
    ...(certDir ? { tls: { certPath: certDir } } : {}),
  };
}

/** Starts the node exporter of a running machine whose exporter is gone (e.g. after a host restart). */
async function adoptExporter(
  config: LocalProviderConfig,
  logger: Logger,
  id: string,
  address: string,
): Promise<void> {
  const spec = { namespace: id, ...paths(config, id), address, port: config.node_exporter_port };
  await ensureNodeExporter(spec).then(
    (started) => started && logger.info({ machine: id }, 'node exporter started'),
    (err: unknown) => logger.warn({ err, machine: id }, 'node exporter did not start'),
  );
}

export function createLocalProvider(options: LocalProviderOptions): InstanceGroup {
  const { config } = options;
  const layout = localLayout(config, options.runnerName);
  let logger: Logger = silentLogger();
  let now = (): Date => new Date();
  let forwarders: Forwarder[] = [];
  let mirrors: string[] = [];
  let certDir: string | null = null;
  const creating = new Set<number>();
  const removing = new Set<number>();

  async function state(id: string): Promise<InstanceReport> {
    const createdAt = (await machineCreatedAt(config, id)) ?? undefined;
    const address = machineNames(layout, machineNumber(layout, id) ?? 0).address;
    if (await pingEngine(address, layout.port, certDir)) {
      if (config.node_exporter) await adoptExporter(config, logger, id, address);
      return { id, state: 'running', ...(createdAt ? { createdAt } : {}) };
    }
    const processes = await pidsInNamespace(id);
    const age = createdAt ? (now().getTime() - createdAt.getTime()) / 1000 : Infinity;
    const st = processes.length > 0 && age < config.boot_timeout ? 'creating' : 'timeout';
    return {
      id,
      state: creating.has(machineNumber(layout, id) ?? 0) ? 'creating' : st,
      ...(createdAt ? { createdAt } : {}),
    };
  }

  return {
    async init(deps) {
      logger = deps.logger.child({ provider: 'local', group: layout.group });
      now = () => deps.clock.now();
      await ensureBridge(layout.bridge, `${layout.hostAddress}/24`);
      if (config.tls) certDir = await ensureGroupCerts(join(config.state_dir, `${layout.prefix}tls`));
      forwarders = [];
      mirrors = [];
      await startMirrors(config.registry_mirrors, layout.hostAddress, { forwarders, mirrors });
      return { id: `local/${layout.group}`, maxSize: config.max_size, version: '1' };
    },
    async update(report) {
      const ids = (await listNamespaces(layout.prefix)).filter((id) => machineNumber(layout, id) !== null);
      const states = await Promise.all(ids.map(state));
      for (const s of states) report(s);
    },
    async increase(count) {
      const free = await freeNumbers(layout, { creating, removing }, count, config.max_size);
      if (free.length === 0)
        throw new ProviderError('capacity', `group ${layout.group} is full (max_size ${config.max_size})`);
      for (const n of free) creating.add(n);
      const ctx = { config, layout, mirrors, certDir };
      const { done: created, failures } = await settleAll(free.map((n) => createMachine(ctx, n)));
      for (const n of free) creating.delete(n);
      for (const err of failures) logger.warn({ err }, 'machine creation failed');
      if (created.length === 0 && failures.length > 0)
        throw new ProviderError('api', 'machine creation failed', { cause: failures[0] });
      return created;
    },
    decrease: (ids) =>
      removeEach(ids, (id) => destroyHeld(config, layout, removing, id), logger, 'machine removal failed'),
    async connectInfo(id): Promise<ConnectInfo> {
      return machineConnectInfo(config, layout, id, certDir);
    },
    async heartbeat(id) {
      const n = machineNumber(layout, id);
      if (n === null || !(await pingEngine(machineNames(layout, n).address, layout.port, certDir)))
        throw new Error(`machine ${id} does not answer`);
    },
    async shutdown() {
      await Promise.all(forwarders.map((f) => f.close()));
      forwarders = [];
      if ((await listNamespaces(layout.prefix)).length === 0)
        await deleteBridge(layout.bridge).catch(() => undefined);
    },
  };
}

export const localProviderFactory = {
  name: 'local',
  configDocs: { schema: localProviderConfigSchema, intro: 'See `src/autoscaler/providers/local/readme.md`.' },
  parseConfig: (raw, context) => ({
    config: localProviderConfigSchema.parse(raw ?? {}),
    runnerName: context.runnerName,
  }),
  create: (options) => createLocalProvider(options),
} satisfies ProviderFactory<LocalProviderOptions>;
