/**
 * A `local`-style machine booted with user data (test part only): the namespace and its address as
 * the `local` provider makes them, then the user data runs inside the namespace with its paths under
 * the machine's own root (`FLOTILLA_ROOT=<state_dir>/<id>/root`), then the engine starts: on 2376
 * with `--tlsverify` and the files the boot script left in `/etc/flotilla/engine-tls` (as an image
 * whose engine unit reads them would), else on 2375 without TLS. Removal is the `local` provider's.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startDockerd } from '../../src/autoscaler/providers/local/dockerd.js';
import {
  localLayout,
  machineNames,
  type LocalProviderConfig,
} from '../../src/autoscaler/providers/local/local-provider-config.js';
import {
  createMachineNetwork,
  listNamespaces,
  NETNS_DIR,
} from '../../src/autoscaler/providers/local/netns.js';
import { machineMirror } from '../../src/autoscaler/providers/local/registry-forwarder.js';
import { ENGINE_TLS_DIR } from '../../src/autoscaler/providers/machine-tls-script.js';
import type { BootedMachine } from './machine-host.js';

const run = promisify(execFile);

/** Boots machines of `config`'s group with user data; `destroy` removes a machine (on failure). */
export function userDataBooter(
  config: LocalProviderConfig,
  destroy: (id: string) => Promise<void>,
): (userData: string) => Promise<BootedMachine> {
  const layout = localLayout(config, String(config.name));
  const mirrors = config.registry_mirrors.map((m) => machineMirror(m, layout.hostAddress));
  const mirrorHosts = mirrors.filter((u) => u.startsWith('http:')).map((u) => new URL(u).host);
  const taken = new Set<number>();

  async function freeNumber(): Promise<number> {
    const used = new Set(
      (await listNamespaces(layout.prefix)).map((id) => Number(id.slice(layout.prefix.length))),
    );
    for (let n = 2; n <= 254; n++) {
      if (!used.has(n) && !taken.has(n)) return n;
    }
    throw new Error(`no free address in ${config.subnet}`);
  }

  async function boot(id: string, address: string, hostVeth: string, userData: string): Promise<void> {
    const dir = join(config.state_dir, id);
    const root = join(dir, 'root');
    await mkdir(root, { recursive: true, mode: 0o700 });
    await createMachineNetwork({
      namespace: id,
      hostVeth,
      bridge: layout.bridge,
      cidr: `${address}/24`,
      gateway: layout.hostAddress,
    });
    await writeFile(join(dir, 'user-data'), userData, { mode: 0o700 });
    await run(
      'nsenter',
      [`--net=${NETNS_DIR}/${id}`, 'env', `FLOTILLA_ROOT=${root}`, 'sh', join(dir, 'user-data')],
      {
        timeout: 60_000,
      },
    ).catch((err: { stderr?: string }) => {
      throw new Error(`the user data of ${id} failed: ${err.stderr ?? String(err)}`);
    });
    const tlsDir = join(root, ENGINE_TLS_DIR);
    const tls = await access(join(tlsDir, 'server-cert.pem')).then(
      () => true,
      () => false,
    );
    await startDockerd({
      namespace: id,
      dir,
      runDir: join(config.run_dir, id),
      address,
      port: tls ? 2376 : 2375,
      storageDriver: config.storage_driver,
      registryMirrors: mirrors,
      insecureRegistries: [...new Set([...mirrorHosts, ...config.insecure_registries])],
      ...(tls ? { tlsDir } : {}),
    });
    await writeFile(join(dir, 'machine.json'), JSON.stringify({ id, address, createdAt: new Date() }));
  }

  return async (userData) => {
    const n = await freeNumber();
    taken.add(n);
    const m = machineNames(layout, n);
    try {
      await boot(m.id, m.address, m.hostVeth, userData);
      return { handle: m.id, address: m.address };
    } catch (err) {
      await destroy(m.id).catch(() => undefined);
      throw err;
    } finally {
      taken.delete(n);
    }
  };
}
