/**
 * The runner manager's record of the jobs it is running, one file per job in `.runner_jobs/` of its
 * state folder (beside config.toml, mode 0600: it holds the job token, like config.toml holds the
 * runner token). A job's file is written before its run starts and removed when the run has
 * reported its end. Files left over at start-up are jobs of a manager that died without reporting
 * (SIGKILL, power loss): `settleOrphanedJobs` tells the coordinator at once, as GitLab would after
 * the runner went silent: a line in the job's log saying why, then `failed` with
 * `runner_system_failure`. The job is not resumed: its process and build folder did not survive.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { processStartTime, processAlive, recordedProcessRuns } from '../shared/process-alive.js';
import type { CoordinatorClient } from './coordinator-client.js';
import { ANSI } from './job/sections.js';

export interface JournalEntry {
  id: number;
  token: string;
  /** The coordinator's URL (the `[[runners]]` entry's `url`). */
  url: string;
  /** The manager's system id when it took the job. */
  systemId: string;
  startedAt: string;
  /** The manager process that runs the job (written by `record`). */
  pid?: number;
  /** That process's start time (written by `record` where it can be read), see recordedProcessRuns. */
  pidStart?: string;
}

export interface JobJournalOptions {
  /** This process's pid (tests inject one). */
  pid?: number;
  /** Whether a process with this pid exists (tests inject one). */
  isAlive?: (pid: number) => boolean;
  /** When the process with this pid started, or null (tests inject one). */
  startTime?: (pid: number) => string | null;
}

export interface JobJournal {
  readonly dir: string;
  record(entry: JournalEntry): Promise<void>;
  remove(jobId: number): Promise<void>;
  /** Entries found on disk (unreadable files are skipped and removed). */
  list(): Promise<JournalEntry[]>;
  /**
   * Entries whose manager process is gone. A manager started beside a running one with the same
   * config.toml (the graceful upgrade runbook) must not take the running one's jobs for orphans;
   * a pid that now names another process (after a restart) does not keep them either.
   */
  listOrphans(): Promise<JournalEntry[]>;
}

function isEntry(value: unknown): value is JournalEntry {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v['id'] === 'number' && typeof v['token'] === 'string' && typeof v['url'] === 'string';
}

export function createJobJournal(stateDir: string, options: JobJournalOptions = {}): JobJournal {
  const dir = join(stateDir, '.runner_jobs');
  const file = (id: number): string => join(dir, `${id}.json`);
  const pid = options.pid ?? process.pid;
  const probe = { alive: options.isAlive ?? processAlive, startTime: options.startTime ?? processStartTime };
  const pidStart = probe.startTime(pid) ?? undefined;
  const journal: JobJournal = {
    dir,
    async record(entry) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file(entry.id)}.tmp`;
      await writeFile(tmp, JSON.stringify({ ...entry, pid, pidStart }), { mode: 0o600 });
      await rename(tmp, file(entry.id));
    },
    async remove(jobId) {
      await rm(file(jobId), { force: true });
    },
    async list() {
      const names = await readdir(dir).catch(() => [] as string[]);
      const entries: JournalEntry[] = [];
      for (const name of names.filter((n) => /^\d+\.json$/.test(n))) {
        const parsed: unknown = await readFile(join(dir, name), 'utf8')
          .then((t) => JSON.parse(t) as unknown)
          .catch(() => null);
        if (isEntry(parsed)) entries.push(parsed);
        else await rm(join(dir, name), { force: true });
      }
      return entries;
    },
    async listOrphans() {
      const all = await journal.list();
      // An entry with this process's pid comes from an earlier process (entries are listed at start).
      return all.filter(
        (e) => e.pid === undefined || e.pid === pid || !recordedProcessRuns(e.pid, e.pidStart, probe),
      );
    },
  };
  return journal;
}

export function orphanLogLine(systemId: string): string {
  return (
    `\n${ANSI.boldRed}ERROR: Job failed (system failure): the runner manager (system id ${systemId}) ` +
    `stopped without finishing this job (it was killed or its host went down) and was restarted; ` +
    `the job's process did not survive it${ANSI.reset}\n`
  );
}

/** Appends `text` at the end of the job's stored log (one 416 round trip to learn its size). */
async function appendLine(client: CoordinatorClient, entry: JournalEntry, text: string): Promise<number> {
  const bytes = Buffer.from(text);
  let offset = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const res = await client.patchTrace(entry.id, entry.token, offset, bytes);
    if (res.status !== 416 || res.rangeSize === null) return res.status;
    offset = res.rangeSize;
  }
  return 416;
}

export type SettleOutcome = 'failed' | 'gone' | 'retry';

/** Reports one orphaned job; 'retry' when the coordinator could not be reached (or answered 5xx). */
export async function settleOrphan(
  client: CoordinatorClient,
  entry: JournalEntry,
  systemId: string,
): Promise<SettleOutcome> {
  const patched = await appendLine(client, entry, orphanLogLine(entry.systemId || systemId));
  if (patched === 0 || patched >= 500) return 'retry';
  const res = await client.updateJob(entry.id, entry.token, {
    token: entry.token,
    state: 'failed',
    failure_reason: 'runner_system_failure',
  });
  if (res.status === 0 || res.status >= 500) return 'retry';
  return res.status === 200 ? 'failed' : 'gone';
}

export interface SettleOptions {
  journal: JobJournal;
  /** The entries left by the previous run (listed before this run took any job). */
  entries: JournalEntry[];
  clientFor(url: string): CoordinatorClient;
  systemId: string;
  logger: Logger;
  clock: Clock;
  signal: AbortSignal;
  /** Wait between rounds while a coordinator is unreachable (default 3 s). */
  retryMs?: number;
}

/** Settles every journal entry left by a previous run; retries unreachable ones until `signal`. */
export async function settleOrphanedJobs(options: SettleOptions): Promise<number> {
  const { journal, logger } = options;
  let pending = options.entries;
  let settled = 0;
  while (pending.length > 0 && !options.signal.aborted) {
    const left: JournalEntry[] = [];
    for (const entry of pending) {
      const outcome = await settleOrphan(options.clientFor(entry.url), entry, options.systemId).catch(
        (err: unknown) => (
          logger.warn({ jobId: entry.id, err: errorMessage(err) }, 'orphan report failed'),
          'retry' as const
        ),
      );
      if (outcome === 'retry') {
        left.push(entry);
        continue;
      }
      await journal.remove(entry.id);
      settled++;
      logger.warn(
        { jobId: entry.id, outcome, startedAt: entry.startedAt },
        outcome === 'failed'
          ? 'job orphaned by a previous run of this manager reported failed (runner_system_failure)'
          : 'job orphaned by a previous run of this manager had already ended on the coordinator',
      );
    }
    pending = left;
    if (pending.length > 0)
      await options.clock.sleep(options.retryMs ?? 3000, options.signal).catch(() => undefined);
  }
  return settled;
}
