/**
 * The Docker Engine of a cloud machine, as every cloud provider reaches it: the connection a job
 * uses (address, TLS, coordinator forwarding, node exporter) and the heartbeat that asks it.
 */
import { pingEngine } from './local/engine-ping.js';
import type { ConnectInfo } from './provider.js';

/** The engine keys every cloud provider's `plugin_config` shares. */
export interface EngineSettings {
  docker_port: number;
  docker_tls_cert_path?: string | undefined;
  forward_coordinator: boolean;
  node_exporter_port: number;
}

/** How a job reaches machine `id`'s engine at `address`. */
export function engineConnectInfo(
  id: string,
  address: string,
  s: EngineSettings,
  zone?: string,
): ConnectInfo {
  return {
    id,
    internalAddr: address,
    externalAddr: address,
    dockerHost: `tcp://${address}:${s.docker_port}`,
    ...(s.docker_tls_cert_path ? { tls: { certPath: s.docker_tls_cert_path } } : {}),
    ...(s.forward_coordinator ? { forwardCoordinator: true } : {}),
    ...(s.node_exporter_port > 0 ? { metricsTargets: [`${address}:${s.node_exporter_port}`] } : {}),
    ...(zone ? { zone } : {}),
  };
}

/** Throws, naming `what`, when the engine at `address` does not answer its ping. */
export async function requireEngine(address: string, s: EngineSettings, what: string): Promise<void> {
  if (!(await pingEngine(address, s.docker_port, s.docker_tls_cert_path ?? null)))
    throw new Error(`${what} does not answer`);
}
