/**
 * PostgreSQL's own cost of a bench run, read from the server's side: the CPU time of the backends
 * that serve one coordinator's connections (found by matching the coordinator's TCP sockets to
 * `pg_stat_activity.client_port`), the CPU of every `postgres` process (the WAL writer, checkpointer
 * and other clients' backends included: the cluster is shared), and the cluster's WAL and commit
 * counters (`pg_stat_wal`, `pg_stat_database`). Linux only (`/proc`); zeros elsewhere.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

import { admin } from './database.js';

/** Clock ticks per second of `/proc/PID/stat` (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** CPU seconds (user + system) of a process, null when it is gone. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return null;
  }
}

/** The local ports of `pid`'s TCP connections to port `remotePort`. */
function localPortsTo(pid: number, remotePort: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const remote = cols[2];
      const inode = cols[9];
      if (!local || !remote || !inode || !inodes.has(inode)) continue;
      if (parseInt(remote.split(':')[1] ?? '', 16) !== remotePort) continue;
      ports.add(parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}

/** Every `postgres` process's pid. */
function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

export interface PgSample {
  /** CPU seconds so far of each backend serving the coordinator, by backend pid. */
  backends: Map<number, number>;
  /** CPU seconds so far of every postgres process, by pid. */
  all: Map<number, number>;
  walRecords: number;
  walSyncs: number;
  walWrites: number;
  walBytes: number;
  walFpi: number;
  commits: number;
}

/** One sample; `coordinatorPid` is the coordinator's process, `port` the server's. */
export async function samplePg(coordinatorPid: number, port = 5432): Promise<PgSample | null> {
  if (process.platform !== 'linux') return null;
  try {
    return await admin(async (c) => {
      const ports = [...localPortsTo(coordinatorPid, port)];
      const backends = new Map<number, number>();
      if (ports.length > 0) {
        const { rows } = await c.query<{ pid: number }>(
          'select pid from pg_stat_activity where client_port = any($1::int[])',
          [ports],
        );
        for (const { pid } of rows) {
          const s = cpuSeconds(pid);
          if (s !== null) backends.set(pid, s);
        }
      }
      const all = new Map<number, number>();
      for (const pid of postgresPids()) {
        const s = cpuSeconds(pid);
        if (s !== null) all.set(pid, s);
      }
      const wal = await c.query<{
        wal_records: string;
        wal_sync: string;
        wal_write: string;
        wal_bytes: string;
        wal_fpi: string;
      }>('select wal_records, wal_sync, wal_write, wal_bytes, wal_fpi from pg_stat_wal');
      const db = await c.query<{ commits: string }>(
        'select sum(xact_commit) as commits from pg_stat_database',
      );
      const w = wal.rows[0];
      return {
        backends,
        all,
        walRecords: Number(w?.wal_records ?? 0),
        walSyncs: Number(w?.wal_sync ?? 0),
        walWrites: Number(w?.wal_write ?? 0),
        walBytes: Number(w?.wal_bytes ?? 0),
        walFpi: Number(w?.wal_fpi ?? 0),
        commits: Number(db.rows[0]?.commits ?? 0),
      };
    });
  } catch {
    return null;
  }
}

/** CPU seconds of the processes in `after`, less what they had used at `before` (0 for new ones). */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return total;
}

/** The server's figures per job between two samples. */
export function pgPerJob(
  before: PgSample | null,
  after: PgSample | null,
  jobs: number,
): Record<string, number> | null {
  if (before === null || after === null || jobs <= 0) return null;
  const per = (x: number, scale = 1): number => Math.round(((x * scale) / jobs) * 100) / 100;
  return {
    pg_backends: after.backends.size,
    pg_backend_cpu_ms_per_job: per(cpuBetween(before.backends, after.backends), 1000),
    pg_all_cpu_ms_per_job: per(cpuBetween(before.all, after.all), 1000),
    wal_syncs_per_job: per(after.walSyncs - before.walSyncs),
    wal_records_per_job: per(after.walRecords - before.walRecords),
    wal_kib_per_job: per(after.walBytes - before.walBytes, 1 / 1024),
    wal_fpi_per_job: per(after.walFpi - before.walFpi),
    commits_per_job: per(after.commits - before.commits),
  };
}
