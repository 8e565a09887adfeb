/**
 * Services: one container per `services:` entry on the job's network, reachable by its aliases and
 * GitLab's derived names. After they start, each service with an exposed port is probed from the
 * helper container until it accepts connections (wait_for_services_timeout). A service that exits or
 * does not answer in time gives GitLab's warning with the service's log; the job goes on.
 */
import type Docker from 'dockerode';

import type { JobImage } from '../../api/runner-api.js';
import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import type { JobOutput } from '../executor.js';
import { containerLogs } from './docker-client.js';
import type { DockerMetrics } from './metrics.js';
import { aliasesSupported, serviceAliases } from './to-container-spec.js';

const YELLOW = '\x1b[0;33m';
const RESET = '\x1b[0;m';

export interface StartedService {
  service: JobImage;
  name: string;
  container: Docker.Container;
  aliases: string[];
}

export interface ServiceDeps {
  docker: Docker;
  clock: Clock;
  metrics: DockerMetrics;
  output: JobOutput;
  /** Registers a created container so cleanup removes it even when a later step fails. */
  track(container: Docker.Container): void;
}

export async function startServices(
  deps: ServiceDeps,
  specs: readonly { service: JobImage; spec: Docker.ContainerCreateOptions }[],
): Promise<StartedService[]> {
  const started: StartedService[] = [];
  for (const { service, spec } of specs) {
    deps.output.write(`Starting service ${service.name} ...\n`);
    const begin = deps.clock.monotonic();
    const container = await deps.docker.createContainer(spec);
    deps.track(container);
    await container.start();
    deps.metrics.containerStartDuration.observe({ type: 'service' }, (deps.clock.monotonic() - begin) / 1000);
    started.push({ service, name: spec.name ?? container.id, container, aliases: serviceAliases(service) });
  }
  return started;
}

/** The port to probe: the first `ports` entry of the payload, else the image's lowest exposed TCP port. */
export function firstPort(
  service: JobImage,
  exposedPorts: Record<string, unknown> | undefined,
): number | null {
  const fromPayload = (service.ports ?? []).map((p) =>
    typeof p === 'object' && p !== null ? Number((p as { number?: unknown }).number) : Number(p),
  );
  const explicit = fromPayload.find((n) => Number.isInteger(n) && n > 0);
  if (explicit !== undefined) return explicit;
  const exposed = Object.keys(exposedPorts ?? {})
    .filter((k) => k.endsWith('/tcp') || !k.includes('/'))
    .map((k) => Number.parseInt(k, 10))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b);
  return exposed[0] ?? null;
}

/** GitLab's warning block for a service that did not come up. */
export function serviceWarning(name: string, error: string, logs: string): string {
  const body = logs.trim() === '' ? '(no output)' : logs.trimEnd();
  return `${YELLOW}*** WARNING:${RESET} Service ${name} probably didn't start properly.\n\nHealth check error:\n${error}\n\nService container logs:\n${body}\n\n${YELLOW}*********${RESET}\n\n`;
}

/** Probes host:port from inside the job's network; resolves null when it answers, else the error. */
export type Probe = (host: string, port: number, seconds: number) => Promise<string | null>;

async function serviceState(
  service: StartedService,
): Promise<{ running: boolean; exitCode: number; ip: string }> {
  const info = await service.container.inspect();
  const networks = Object.values(info.NetworkSettings.Networks ?? {});
  return {
    running: info.State.Running,
    exitCode: info.State.ExitCode,
    ip: networks[0]?.IPAddress || '127.0.0.1',
  };
}

async function checkOne(
  deps: ServiceDeps,
  service: StartedService,
  network: string,
  timeoutS: number,
  probe: Probe,
): Promise<string | null> {
  const image = await deps.docker.getImage(service.service.name).inspect();
  const port = firstPort(service.service, image.Config?.ExposedPorts);
  const state = await serviceState(service);
  if (!state.running) return `service "${service.name}" exited with code ${state.exitCode}`;
  if (port === null) return null;
  const host = aliasesSupported(network)
    ? (service.aliases[0] ?? state.ip)
    : network === 'host'
      ? '127.0.0.1'
      : state.ip;
  const error = await probe(host, port, timeoutS);
  if (error === null) return null;
  const after = await serviceState(service);
  return after.running
    ? `service "${service.name}" timeout: ${error}`
    : `service "${service.name}" exited with code ${after.exitCode}`;
}

/** Waits for every service in parallel; prints a warning with the log of each one that failed. */
export async function waitForServices(
  deps: ServiceDeps,
  services: readonly StartedService[],
  network: string,
  timeoutS: number,
  probe: Probe,
): Promise<number> {
  if (timeoutS < 0 || services.length === 0) return 0;
  deps.output.write(`Waiting for services to be up and running (timeout ${timeoutS} seconds)...\n`);
  const results = await Promise.all(
    services.map(async (service) => {
      const error = await checkOne(deps, service, network, timeoutS, probe).catch((err: unknown) =>
        errorMessage(err),
      );
      if (error === null) return 0;
      const logs = await containerLogs(service.container).catch(
        (err: unknown) => `(logs unavailable: ${errorMessage(err)})`,
      );
      deps.output.write(serviceWarning(service.name, error, logs));
      return 1;
    }),
  );
  return results.reduce((a: number, b) => a + b, 0);
}
