/** Starts the synthetic Runner-API client process and collects its figures. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { ClientSettings, ClientStats } from '../clients/client-stats.js';
import { OUT } from './paths.js';
import { nodeProcess, type BenchProcess } from './proc.js';
import type { TestApi } from '../../harness/api-client.js';

export interface ClientFleet {
  proc: BenchProcess;
  /** Stops the clients (if still running) and returns their figures. */
  stats(): Promise<ClientStats>;
}

export async function startClients(settings: ClientSettings): Promise<ClientFleet> {
  const proc = nodeProcess(path.join(OUT, 'clients', 'runner-clients.js'), [], {
    BENCH_CLIENTS: JSON.stringify(settings),
  });
  await proc.waitFor(/READY/, 30_000);
  return {
    proc,
    stats: async () => {
      if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
      await proc.waitFor(/STATS\n/, 30_000);
      await proc.exited;
      return JSON.parse(await readFile(settings.statsFile, 'utf8')) as ClientStats;
    },
  };
}

/** Registers `count` runners (optionally tagged) and returns their tokens. */
export async function createRunners(api: TestApi, count: number, tags: string[] = []): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const fields =
      tags.length > 0
        ? { description: `bench-${i}`, tag_list: tags.join(','), run_untagged: false }
        : { description: `bench-${i}` };
    tokens.push((await api.createRunner(fields)).token);
  }
  return tokens;
}
