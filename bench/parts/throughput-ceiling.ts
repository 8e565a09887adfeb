/**
 * The throughput part's ceiling on this machine: the same client process, settings and job count as
 * the 1,000-client half, against a server that answers from memory (clients/null-coordinator.ts).
 * Its jobs/s is what the clients and Node's HTTP alone reach on these cores; the coordinator's
 * figure beside it says how much of that the real work costs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { NullCoordinatorSettings } from '../clients/null-coordinator.js';
import { startClients } from '../lib/clients.js';
import { OUT } from '../lib/paths.js';
import { nodeProcess, readCpuSeconds } from '../lib/proc.js';
import { round } from '../lib/stats.js';

/** Bytes of the real coordinator's 201 body for the bench's no-op job (5.7 KB measured). */
const PAYLOAD_BYTES = 5_800;

export interface Ceiling {
  jobs: number;
  jobsPerS: number | null;
  /** CPU of the answering server per job (user + system, ms). */
  serverCpuMsPerJob: number | null;
  /** CPU of the client process per job, between its first and its last job (ms). */
  clientCpuMsPerJob: number | null;
}

export async function measureCeiling(clients: number, jobs: number, tokens: number): Promise<Ceiling> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-bench-ceiling-'));
  const settings: NullCoordinatorSettings = { jobs, payloadBytes: PAYLOAD_BYTES };
  const server = nodeProcess(path.join(OUT, 'clients', 'null-coordinator.js'), [], {
    BENCH_NULL: JSON.stringify(settings),
  });
  try {
    const url = (await server.waitFor(/LISTENING (\S+)/))[1] ?? '';
    const cpuBefore = readCpuSeconds(server.pid) ?? 0;
    const fleet = await startClients({
      url,
      tokens: Array.from({ length: tokens }, (_, i) => `glrt-null-${i}`),
      clients,
      tracePatches: 2,
      traceBytes: 1024,
      maxJobs: jobs,
      statsFile: path.join(dir, 'ceiling.json'),
    });
    await fleet.proc.waitFor(/STATS\n/, 300_000);
    const serverCpuS = (readCpuSeconds(server.pid) ?? 0) - cpuBefore;
    const stats = await fleet.stats();
    const seconds = ((stats.lastJobAt ?? 0) - (stats.firstJobAt ?? 0)) / 1000;
    const done = stats.completed;
    return {
      jobs: done,
      jobsPerS: round(seconds > 0 ? done / seconds : null, 1),
      serverCpuMsPerJob: round(done > 0 ? (serverCpuS * 1000) / done : null, 2),
      clientCpuMsPerJob: round(
        done > 0 && stats.cpuSecondsWhileJobs !== undefined
          ? (stats.cpuSecondsWhileJobs * 1000) / done
          : null,
        2,
      ),
    };
  } finally {
    await server.stop('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}
