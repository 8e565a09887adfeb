/**
 * A new machine is ready when its Docker Engine answers and, if configured, `instance_ready_command`
 * exits 0. The command runs on the manager with `sh -c`, with DOCKER_HOST (and DOCKER_CERT_PATH,
 * DOCKER_TLS_VERIFY) pointing at the machine: our machines have no SSH, their interface is the
 * engine (e.g. `docker info`, or a `docker run` of a probe image).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { connectDocker, pingEngine } from '../executors/docker/docker-client.js';
import type { ConnectInfo } from './providers/provider.js';

const run = promisify(execFile);

export function machineEnv(info: ConnectInfo): Record<string, string> {
  return {
    DOCKER_HOST: info.dockerHost,
    ...(info.tls ? { DOCKER_CERT_PATH: info.tls.certPath, DOCKER_TLS_VERIFY: '1' } : {}),
  };
}

export function endpointOf(info: ConnectInfo): ReturnType<typeof connectDocker> {
  return connectDocker(
    { host: info.dockerHost, tls_verify: info.tls !== undefined, tls_cert_path: info.tls?.certPath },
    {},
  );
}

/** Throws unless the machine's engine answers within `timeoutMs`. */
export async function engineAnswers(info: ConnectInfo, timeoutMs = 5000): Promise<void> {
  await pingEngine(endpointOf(info), timeoutMs);
}

export function createReadyCheck(
  command: string | undefined,
  timeoutMs = 120_000,
): (info: ConnectInfo) => Promise<void> {
  return async (info) => {
    await engineAnswers(info);
    if (!command) return;
    try {
      await run('sh', ['-c', command], { env: { ...process.env, ...machineEnv(info) }, timeout: timeoutMs });
    } catch (err) {
      const e = err as { code?: number; stderr?: string };
      throw new Error(
        `instance_ready_command exited ${e.code ?? '?'}: ${(e.stderr ?? '').trim().slice(0, 500)}`,
        { cause: err },
      );
    }
  };
}
