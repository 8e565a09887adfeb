/**
 * The manager's machine state, persisted beside config.toml so a restarted manager adopts its
 * machines instead of leaking or deleting them. One JSON file per runner entry, written atomically
 * (temporary file + rename). Entries without a provider id are creations that were requested but not
 * yet answered; the zero-id cleaner removes old ones.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface MachineRecord {
  /** `<provider>/<id>`; `<provider>/` while the creation is unanswered. */
  key: string;
  state: 'creating' | 'ready' | 'removing';
  createdAt: string;
  readyAt?: string;
  useCount: number;
  /** Slots held when the state was written (in-flight jobs). */
  busy: number;
}

export interface FleetState {
  version: 1;
  runner: string;
  machines: MachineRecord[];
}

/** The default state file: `<config dir>/.flotilla/autoscaler-<runner>.json`. */
export function defaultStatePath(configPath: string, runnerName: string): string {
  const safe = runnerName.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(dirname(configPath), '.flotilla', `autoscaler-${safe}.json`);
}

export async function readState(path: string, runner: string): Promise<FleetState> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as FleetState;
    if (parsed.version !== 1 || !Array.isArray(parsed.machines))
      throw new Error(`${path}: unknown state format`);
    return parsed;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, runner, machines: [] };
    throw err;
  }
}

let seq = 0;

export async function writeState(path: string, state: FleetState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${seq++}.tmp`);
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Serializes writes: the last state asked for is the one on disk. */
export function stateWriter(path: string): { write(state: FleetState): Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  return {
    write(state) {
      const snapshot = JSON.parse(JSON.stringify(state)) as FleetState;
      chain = chain.then(() => writeState(path, snapshot));
      return chain;
    },
  };
}

export interface FleetControl {
  /** Provider name → paused by hand (true) or unpaused by hand (false). */
  providers: Record<string, boolean>;
  /**
   * Provider name → the `requested_at` of the coordinator's last pause request applied here
   * (`POST /api/v4/runners/fleet`), so each request is applied once and a later CLI change stands.
   */
  applied?: Record<string, string>;
}

/** The hand-set pauses (`flotilla fleet pause|unpause`), beside the state files. */
export function controlPath(configPath: string): string {
  return join(dirname(configPath), '.flotilla', 'fleet-control.json');
}

export async function readControl(path: string): Promise<FleetControl> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as FleetControl;
  } catch {
    return { providers: {} };
  }
}

export async function writeControl(path: string, control: FleetControl): Promise<void> {
  await writeState(path, control as unknown as FleetState);
}
