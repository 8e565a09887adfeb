/**
 * How the containers of a per-job network reach the coordinator when no route leads there: a
 * coordinator on loopback (`flotilla run`, a runner beside its coordinator) or an engine without NAT
 * (`local` provider machines). A TCP forwarder listens on the job network's gateway and forwards to
 * the runner's `url`; the helper's requests, the clone URL and the CI_SERVER_* variables of the job
 * then name `<gateway>:<port>`.
 * - Engine in this process's network namespace (local socket, gateway is one of our addresses): the
 *   forwarder runs in the runner process (no container, no start-up cost).
 * - Otherwise: a helper container on the engine's host network runs `flotilla-helper forward`.
 * Both connect to the coordinator once before listening, so an unreachable coordinator fails the job
 * within seconds with a message naming the URL. Only the coordinator's address is forwarded; jobs get
 * no other route out of their network.
 */
import type Docker from 'dockerode';

import type { JobVariable } from '../../api/runner-api.js';
import type { Clock } from '../../shared/clock.js';
import type { ExecutorJob } from '../executor.js';
import type { DockerConfig } from './docker-config.js';
import { helperArgv } from './helper-request.js';
import { probeTcp, startTcpForwarder } from './tcp-forwarder.js';
import { jobLabels, jobNames } from './to-container-spec.js';

export const COORDINATOR_PROBE_SECONDS = 10;
const FORWARDER_START_SECONDS = 30;

export interface Forwarding {
  /** `<gateway>:<port>`: the coordinator as the job's containers reach it. */
  address: string;
  /** Where the forwarder runs, for the job log. */
  where: 'runner' | 'container';
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]' || host === '::1';
}

/** Whether the job's containers reach the coordinator through a forwarder. PURE. */
export function forwardingNeeded(config: DockerConfig, runnerUrl: string): boolean {
  if (config.network_mode || config.coordinator_forwarding === 'never') return false;
  if (config.coordinator_forwarding === 'always') return true;
  return isLoopback(new URL(runnerUrl).hostname);
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/**
 * `value` with the runner's host (and, for loopback, every loopback spelling) at the runner's port
 * replaced by `address`, where it follows `//` or `@` (URLs, with or without credentials). PURE.
 */
export function rewriteUrls(value: string, runnerUrl: string, address: string): string {
  const url = new URL(runnerUrl);
  const hosts = isLoopback(url.hostname) ? ['localhost', '127.0.0.1', '[::1]', url.hostname] : [url.hostname];
  const alternatives = [...new Set(hosts)].map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const port = url.port ? `:${url.port}` : `(?::${defaultPort(url)})?`;
  return value.replace(new RegExp(`(//|@)(?:${alternatives})${port}(?=[/?#]|$)`, 'gi'), `$1${address}`);
}

const URL_VARIABLES = new Set(['CI_SERVER_URL', 'CI_API_V4_URL', 'CI_API_GRAPHQL_URL', 'CI_REPOSITORY_URL']);

/** The job variables as the containers must see them: server URLs, host and port forwarded. PURE. */
export function forwardedVariables(
  variables: readonly JobVariable[],
  runnerUrl: string,
  address: string,
): JobVariable[] {
  const [host = '', port = ''] = address.split(':');
  return variables.map((v) => {
    if (URL_VARIABLES.has(v.key)) return { ...v, value: rewriteUrls(v.value, runnerUrl, address) };
    if (v.key === 'CI_SERVER_HOST' || v.key === 'CI_SERVER_FQDN') return { ...v, value: host };
    if (v.key === 'CI_SERVER_PORT') return { ...v, value: port };
    return v;
  });
}

/** A coordinator the forwarder cannot connect to; the message says what to configure. */
export class CoordinatorUnreachableError extends Error {
  constructor(runnerUrl: string, from: string, reason: string) {
    super(
      `the coordinator ${runnerUrl} is unreachable from ${from} (${reason}): the runner's [[runners]] url ` +
        `must be an address that the Docker Engine's host can connect to, or set [runners.docker] ` +
        `network_mode (e.g. "host") to run the job without a per-job network`,
    );
    this.name = 'CoordinatorUnreachableError';
  }
}

export interface ForwardingDeps {
  docker: Docker;
  /** The engine's address (`unix:///…` or `tcp://…`). */
  engineAddress: string;
  job: ExecutorJob;
  network: string;
  helperImage: string;
  clock: Clock;
  track(container: Docker.Container): void;
}

async function gatewayOf(docker: Docker, network: string): Promise<string> {
  const info = (await docker.getNetwork(network).inspect()) as {
    IPAM?: { Config?: { Gateway?: string }[] };
  };
  const gateway = info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
  if (!gateway) throw new Error(`network ${network} has no gateway address to forward the coordinator on`);
  return gateway;
}

function target(runnerUrl: string): { host: string; port: number } {
  const url = new URL(runnerUrl);
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
  return { host, port: Number(defaultPort(url)) };
}

/** The forwarder in this process, or null when the gateway is not an address of this host. */
async function inRunner(gateway: string, runnerUrl: string): Promise<Forwarding | null> {
  const { host, port } = target(runnerUrl);
  let forwarder;
  try {
    // A fresh bridge is down until a container joins it (not listed by os.networkInterfaces), but
    // its address can be bound already: binding is the test.
    forwarder = await startTcpForwarder(gateway, 0, host, port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') return null;
    throw err;
  }
  const reason = await probeTcp(host, port, COORDINATOR_PROBE_SECONDS * 1000);
  if (reason !== null) {
    await forwarder.close();
    throw new CoordinatorUnreachableError(runnerUrl, 'the runner', reason);
  }
  return { address: `${gateway}:${forwarder.port}`, where: 'runner', close: () => forwarder.close() };
}

async function containerText(container: Docker.Container): Promise<string> {
  const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  // Non-TTY logs are framed: an 8-byte header (stream, 0, 0, 0, big-endian length), then the bytes.
  let text = '';
  for (let at = 0; at + 8 <= raw.length;) {
    const size = raw.readUInt32BE(at + 4);
    text += raw.subarray(at + 8, at + 8 + size).toString('utf8');
    at += 8 + size;
  }
  return text;
}

async function inContainer(deps: ForwardingDeps, gateway: string, runnerUrl: string): Promise<Forwarding> {
  const { host, port } = target(runnerUrl);
  const container = await deps.docker.createContainer({
    name: `${jobNames(deps.job).prefix}-forwarder`,
    Image: deps.helperImage,
    Cmd: helperArgv('forward', [gateway, host, String(port), String(COORDINATOR_PROBE_SECONDS)]),
    Labels: jobLabels(deps.job, 'forwarder'),
    HostConfig: { NetworkMode: 'host' },
  });
  deps.track(container);
  await container.start();
  const deadline = deps.clock.monotonic() + FORWARDER_START_SECONDS * 1000;
  for (;;) {
    const text = await containerText(container);
    const ready = /forwarding \S+:(\d+) to/.exec(text);
    if (ready) return { address: `${gateway}:${ready[1]}`, where: 'container', close: async () => undefined };
    const running = (await container.inspect()).State.Running;
    if (!running || deps.clock.monotonic() > deadline) {
      const reason = /unreachable: (.*)/.exec(text)?.[1] ?? (text.trim() || 'the forwarder did not start');
      throw new CoordinatorUnreachableError(runnerUrl, "the Docker Engine's host network", reason);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the job's coordinator forwarder on its network's gateway. */
export async function startForwarding(deps: ForwardingDeps): Promise<Forwarding> {
  const gateway = await gatewayOf(deps.docker, deps.network);
  const runnerUrl = deps.job.runner.url;
  const local = deps.engineAddress.startsWith('unix://') ? await inRunner(gateway, runnerUrl) : null;
  return local ?? inContainer(deps, gateway, runnerUrl);
}
