/**
 * The set-up the cloud providers' unit tests share (aws, gce, digitalocean, each against its cloud's
 * emulator): a scratch folder, an engine port of their own, machines as loopback `/_ping` servers on
 * 127.0.<block>.n, a provider initialised on a given clock, its listing, and a short poll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { InstanceGroup, InstanceReport } from '../../src/autoscaler/providers/provider.js';
import type { Clock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { pingMachineHost, type MachineHost } from '../emulators/machine-host.js';

export interface ProviderUnitKit {
  /** A scratch folder, removed by `close`. */
  dir: string;
  /** The machines' engine port (`docker_port`), apart for each test file and process. */
  port: number;
  /** The loopback machine host (`/_ping` servers on 127.0.<block>.n:port). */
  host: MachineHost;
  close(): Promise<void>;
}

/** The kit of one test file; `basePort` and `block` keep files running at once apart. */
export function providerUnitKit(o: { name: string; basePort: number; block: number }): ProviderUnitKit {
  const dir = mkdtempSync(join(tmpdir(), `flotilla-${o.name}-`));
  const port = o.basePort + (process.pid % 200);
  const host = pingMachineHost({ block: o.block, port });
  return {
    dir,
    port,
    host,
    async close() {
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `provider` after `init` with a silent logger and `clock`. */
export async function initialized(provider: InstanceGroup, clock: Clock): Promise<InstanceGroup> {
  await provider.init({ logger: silentLogger(), clock });
  return provider;
}

/** Every machine `update` reports, by id. */
export async function listed(p: InstanceGroup): Promise<InstanceReport[]> {
  const out: InstanceReport[] = [];
  await p.update((i) => out.push(i));
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Polls `f` every 25 ms until it gives a value, at most 200 times. */
export async function until<T>(what: string, f: () => Promise<T | null | false | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}
