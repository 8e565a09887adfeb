/**
 * Edits config.toml for `register` / `unregister`. Only the `[[runners]]` array is changed; the rest
 * of the table is kept as parsed. Comments are not preserved (the TOML writer cannot keep them).
 * Writes are atomic (temp file + rename) and the file is private (0600): it holds tokens.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';

import { FlotillaError } from '../../shared/errors.js';

export interface RunnerEntryInput {
  name: string;
  url: string;
  id: number;
  token: string;
  token_obtained_at: Date;
  token_expires_at?: Date;
  executor: string;
  [key: string]: unknown;
}

type Table = Record<string, unknown>;

async function readTable(path: string): Promise<Table> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { concurrent: 1, check_interval: 0 };
    throw err;
  }
  try {
    return parseToml(text) as Table;
  } catch (err) {
    throw new FlotillaError('FLO_ERR_CONFIG_INVALID', `${path} is not valid TOML; not changing it`, {
      cause: err,
    });
  }
}

async function writeTable(path: string, table: Table): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, stringifyToml(table) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

function runnersOf(table: Table): Table[] {
  const runners = table.runners;
  return Array.isArray(runners) ? (runners as Table[]) : [];
}

/** Appends a `[[runners]]` entry, creating the file (concurrent = 1) when missing. */
export async function addRunnerToConfigFile(path: string, entry: RunnerEntryInput): Promise<void> {
  const table = await readTable(path);
  const clean = Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined));
  table.runners = [...runnersOf(table), clean];
  await writeTable(path, table);
}

/** Removes the entries `select` picks; returns the removed ones (url + token) for unregistering. */
export async function removeRunnersFromConfigFile(
  path: string,
  select: (runner: { name: string; url: string; token: string }) => boolean,
): Promise<{ name: string; url: string; token: string }[]> {
  const table = await readTable(path);
  const removed: { name: string; url: string; token: string }[] = [];
  const kept = runnersOf(table).filter((r) => {
    const view = { name: String(r.name ?? ''), url: String(r.url ?? ''), token: String(r.token ?? '') };
    if (!select(view)) return true;
    removed.push(view);
    return false;
  });
  if (removed.length > 0) {
    table.runners = kept;
    await writeTable(path, table);
  }
  return removed;
}
