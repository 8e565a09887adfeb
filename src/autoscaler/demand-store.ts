/**
 * The predictive pool's measurements (arrivals by time of day, boot times, job durations) kept
 * beside the machine state file, so a restarted manager sizes its pool from the days it has seen
 * instead of starting cold. One JSON file per runner entry, written atomically (temporary file +
 * rename); arrivals are stored as gaps from the first one (small integers), so a week of a busy
 * fleet's arrivals stays a few hundred KiB.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import type { Clock } from '../shared/clock.js';
import { FlotillaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { DemandModel, DemandSnapshot } from './demand.js';

export interface DemandFile {
  version: 1;
  runner: string;
  savedAt: string;
  /** The first arrival (epoch ms); the others follow as gaps. */
  arrivalsFrom: number | null;
  /** Milliseconds from each arrival to the next, ascending times. */
  arrivalGaps: number[];
  firstMs: number | null;
  boots: Record<string, number[]>;
  lastBootProvider: string | null;
  durations: number[];
}

/** The history file of the state file `statePath`: `demand-<its name>` in the same folder. */
export function demandPathFor(statePath: string): string {
  return join(dirname(statePath), `demand-${basename(statePath)}`);
}

export function encodeDemand(runner: string, snap: DemandSnapshot, savedAt: Date): DemandFile {
  const first = snap.arrivals[0];
  return {
    version: 1,
    runner,
    savedAt: savedAt.toISOString(),
    arrivalsFrom: first ?? null,
    arrivalGaps: snap.arrivals.slice(1).map((t, i) => t - (snap.arrivals[i] ?? t)),
    firstMs: snap.firstMs,
    boots: snap.boots,
    lastBootProvider: snap.lastBootProvider,
    durations: snap.durations,
  };
}

/** A history file that cannot be read back, naming the field that is wrong. */
const invalid = (message: string): FlotillaError => new FlotillaError('FLO_ERR_CONFIG_INVALID', message);

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

function numbers(value: unknown, field: string): number[] {
  if (!Array.isArray(value) || !value.every(isCount))
    throw invalid(`${field} must be a list of non-negative numbers`);
  return value;
}

function nullableCount(value: unknown, field: string): number | null {
  if (value === null || isCount(value)) return value;
  throw invalid(`${field} must be a non-negative number or null`);
}

/** The snapshot a file holds; throws FLO_ERR_CONFIG_INVALID naming the first wrong field. */
export function decodeDemand(raw: unknown): DemandSnapshot {
  if (typeof raw !== 'object' || raw === null) throw invalid('not a JSON object');
  const f = raw as Partial<DemandFile>;
  if (f.version !== 1) throw invalid(`version must be 1, got ${JSON.stringify(f.version)}`);
  const from = nullableCount(f.arrivalsFrom, 'arrivalsFrom');
  const gaps = numbers(f.arrivalGaps ?? [], 'arrivalGaps');
  const arrivals: number[] = [];
  if (from !== null) {
    let t = from;
    arrivals.push(t);
    for (const gap of gaps) arrivals.push((t += gap));
  }
  if (typeof f.boots !== 'object' || f.boots === null || Array.isArray(f.boots))
    throw invalid('boots must be an object of provider name → boot times');
  const boots: Record<string, number[]> = {};
  for (const [provider, samples] of Object.entries(f.boots))
    boots[provider] = numbers(samples, `boots.${provider}`);
  const last = f.lastBootProvider ?? null;
  if (last !== null && typeof last !== 'string') throw invalid('lastBootProvider must be a string or null');
  return {
    arrivals,
    firstMs: nullableCount(f.firstMs ?? null, 'firstMs'),
    boots,
    lastBootProvider: last,
    durations: numbers(f.durations ?? [], 'durations'),
  };
}

/** The snapshot in `path`, or null when there is none yet; throws when the file is unreadable. */
export async function readDemand(path: string): Promise<DemandSnapshot | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return decodeDemand(JSON.parse(text));
  } catch (err) {
    throw invalid(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

let seq = 0;

export async function writeDemand(path: string, file: DemandFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${seq++}.tmp`);
  await writeFile(tmp, `${JSON.stringify(file)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Restores a model from its file at start and saves it when it changed (serialized writes). */
export interface DemandHistory {
  restore(): Promise<void>;
  save(): Promise<void>;
}

export function demandHistory(o: {
  path: string;
  runner: string;
  model: DemandModel;
  clock: Clock;
  logger: Logger;
}): DemandHistory {
  let saved = -1;
  let chain: Promise<void> = Promise.resolve();
  async function saveNow(): Promise<void> {
    const revision = o.model.revision();
    if (revision === saved) return;
    try {
      await writeDemand(o.path, encodeDemand(o.runner, o.model.snapshot(), o.clock.now()));
      saved = revision;
    } catch (err) {
      o.logger.warn({ err, file: o.path }, 'writing the predictive history failed');
    }
  }
  return {
    async restore() {
      try {
        const snap = await readDemand(o.path);
        if (snap === null) return;
        o.model.restore(snap, o.clock.now().getTime());
        saved = o.model.revision();
        o.logger.info({ file: o.path, arrivals: snap.arrivals.length }, 'predictive history restored');
      } catch (err) {
        o.logger.warn(
          { err, file: o.path },
          'ignoring the predictive history file; the pool starts without history (the file is replaced at the next save)',
        );
      }
    },
    save() {
      chain = chain.then(saveNow);
      return chain;
    },
  };
}
