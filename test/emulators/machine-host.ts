/**
 * What a cloud emulator boots for each instance it creates (test part only):
 * - `netnsMachineHost`: a real machine as the `local` provider makes it (a network namespace with
 *   its own Docker Engine on TCP, the test registry as mirror), so real jobs run on "cloud" machines.
 *   The instance's user data (or startup script), when a shell script, runs at boot inside the
 *   machine's namespace, its paths under the machine's own root (`FLOTILLA_ROOT`); like an image
 *   whose engine unit reads
 *   `/etc/flotilla/engine-tls`, the engine then listens on 2376 with `--tlsverify` and the files the
 *   boot script made there, else on 2375 without TLS;
 * - `pingMachineHost`: a loopback address (127.0.x.y) with a tiny `/_ping` server on the engine
 *   port, for the providers' unit tests (no root, no Docker).
 * A machine that "never boots" gets an address where nothing answers.
 */
import http from 'node:http';

import { createLocalProvider } from '../../src/autoscaler/providers/local/local-provider.js';
import { localProviderConfigSchema } from '../../src/autoscaler/providers/local/local-provider-config.js';
import type { InstanceGroup } from '../../src/autoscaler/providers/provider.js';
import { systemClock } from '../../src/shared/clock.js';
import { userDataBooter } from './user-data-boot.js';
import { silentLogger } from '../../src/shared/logger.js';

export interface BootedMachine {
  /** The host's own handle (namespace name or address). */
  handle: string;
  address: string;
}

export interface MachineHost {
  /** The engine port machines listen on. */
  readonly port: number;
  /**
   * Boots a machine; with `engine: false` it gets an address where nothing answers. `userData` (the
   * instance's user data or startup script, plain text) runs at boot where the host supports it.
   */
  boot(options: { engine: boolean; userData?: string | undefined }): Promise<BootedMachine>;
  destroy(handle: string): Promise<void>;
  close(): Promise<void>;
  /** The user data each boot was given, by machine address (kept, not run, by the loopback host). */
  readonly userData?: ReadonlyMap<string, string>;
}

/** Machines as `/_ping` servers on 127.0.<block>.<n>:port. */
export function pingMachineHost(options: { block: number; port: number }): MachineHost {
  const servers = new Map<string, http.Server>();
  const userData = new Map<string, string>();
  let n = 1;
  return {
    port: options.port,
    userData,
    async boot({ engine, userData: script }) {
      const address = `127.0.${options.block}.${++n}`;
      if (script !== undefined) userData.set(address, script);
      if (!engine) return { handle: address, address };
      const server = http.createServer((req, res) => {
        res.writeHead(req.url === '/_ping' ? 200 : 404, { 'content-type': 'text/plain' });
        res.end('OK');
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, address, () => resolve());
      });
      servers.set(address, server);
      return { handle: address, address };
    },
    async destroy(handle) {
      const s = servers.get(handle);
      servers.delete(handle);
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async close() {
      for (const h of [...servers.keys()]) await this.destroy(h);
    },
  };
}

/**
 * Real machines through a `local` provider group (`plugin_config` of the local provider: name,
 * subnet, registry_mirrors, state_dir, run_dir...). Engines listen on 2375 without TLS.
 */
export async function netnsMachineHost(localConfig: Record<string, unknown>): Promise<MachineHost> {
  const config = localProviderConfigSchema.parse(localConfig);
  const group: InstanceGroup = createLocalProvider({ config, runnerName: String(config.name) });
  await group.init({ logger: silentLogger(), clock: systemClock });
  const net = config.subnet.replace(/\.0\/24$/, '');
  const withUserData = userDataBooter(config, (id) => group.decrease([id]).then(() => undefined));
  return {
    port: 2375,
    async boot({ engine, userData }) {
      if (!engine) return { handle: '', address: `${net}.254` };
      // a shell script runs as the image's boot would; cloud-init's formats (#cloud-config) are not emulated
      if (userData?.startsWith('#!')) return withUserData(userData);
      const [id] = await group.increase(1);
      if (!id) throw new Error('the local machine host created nothing');
      const info = await group.connectInfo(id);
      return { handle: id, address: info.internalAddr };
    },
    async destroy(handle) {
      if (handle) await group.decrease([handle]);
    },
    async close() {
      await group.shutdown();
    },
  };
}
