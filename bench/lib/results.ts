/** The machine-readable results: one object per benchmark, merged into bench/results/latest.json. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { RESULTS_FILE } from './paths.js';

export type Figures = Record<string, number | string | null>;

export interface BenchResult {
  /** Part of the suite (`local`, `pickup`, ...). */
  part: string;
  name: string;
  params: Record<string, unknown>;
  figures: Figures;
  /** The peer's figures for the same benchmark, measured in the same run, when there is a peer. */
  peer: { name: string; figures: Figures } | null;
  /** Flotilla ÷ peer for each compared figure (below 1 means Flotilla is faster/smaller). */
  ratio: Figures | null;
  notes: string[];
  measuredAt: string;
}

export interface ResultsFile {
  machine: MachineInfo;
  updatedAt: string;
  /** How each part's latest run went: wall time and the load average before and after it. */
  runs?: Record<string, PartRun>;
  /** The latest invocation of the suite: its parts and total wall time. */
  suite?: { parts: string[]; seconds: number; at: string };
  results: BenchResult[];
}

export interface PartRun {
  startedAt: string;
  seconds: number;
  /** 1, 5 and 15 minute load averages. */
  loadBefore: number[];
  loadAfter: number[];
  ok: boolean;
}

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverage: number[];
}

export const loadAverage = (): number[] => os.loadavg().map((l) => Math.round(l * 100) / 100);

export function machineInfo(): MachineInfo {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: loadAverage(),
  };
}

export function result(
  part: string,
  name: string,
  params: Record<string, unknown>,
  figures: Figures,
  extra: Partial<Pick<BenchResult, 'peer' | 'ratio' | 'notes'>> = {},
): BenchResult {
  return {
    part,
    name,
    params,
    figures,
    peer: extra.peer ?? null,
    ratio: extra.ratio ?? null,
    notes: extra.notes ?? [],
    measuredAt: new Date().toISOString(),
  };
}

/** Replaces the results of the parts that ran and keeps the others (so parts can run alone). */
export async function mergeResults(
  parts: string[],
  fresh: BenchResult[],
  file = RESULTS_FILE,
  extra: { runs?: Record<string, PartRun>; suite?: ResultsFile['suite'] } = {},
): Promise<ResultsFile> {
  const old = await readFile(file, 'utf8')
    .then((t) => JSON.parse(t) as ResultsFile)
    .catch(() => null);
  const kept = (old?.results ?? []).filter((r) => !parts.includes(r.part));
  const merged: ResultsFile = {
    machine: machineInfo(),
    updatedAt: new Date().toISOString(),
    runs: { ...old?.runs, ...extra.runs },
    ...((extra.suite ?? old?.suite) ? { suite: extra.suite ?? old?.suite } : {}),
    results: [...kept, ...fresh],
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(merged, null, 2) + '\n');
  return merged;
}
