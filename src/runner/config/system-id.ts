/**
 * The runner manager's system_id, as gitlab-runner makes it: `s_` + 12 hex chars of
 * HMAC-SHA256(machine id, "gitlab-runner"), or `r_` + 12 random alphanumerics when the OS has no
 * machine id. Persisted in `.runner_system_id` next to config.toml so it survives restarts.
 */
import { createHmac, randomInt } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const SYSTEM_ID_PATTERN = /^[sr]_[0-9a-zA-Z]{12}$/;
const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function systemIdPath(configPath: string): string {
  return join(dirname(configPath), '.runner_system_id');
}

export function isValidSystemId(value: string): boolean {
  return SYSTEM_ID_PATTERN.test(value);
}

async function machineId(files: readonly string[]): Promise<string | null> {
  for (const file of files) {
    try {
      const id = (await readFile(file, 'utf8')).trim();
      if (id) return id;
    } catch {
      // try the next one
    }
  }
  return null;
}

export function systemIdFromMachineId(id: string): string {
  return 's_' + createHmac('sha256', 'gitlab-runner').update(id).digest('hex').slice(0, 12);
}

export function randomSystemId(): string {
  let out = 'r_';
  for (let i = 0; i < 12; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

/** Reads `.runner_system_id` next to config.toml, or creates and stores a new one. */
export async function loadOrCreateSystemId(
  configPath: string,
  machineIdFiles: readonly string[] = MACHINE_ID_FILES,
): Promise<string> {
  const file = systemIdPath(configPath);
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (isValidSystemId(stored)) return stored;
  } catch {
    // not there yet
  }
  const id = await machineId(machineIdFiles);
  const systemId = id ? systemIdFromMachineId(id) : randomSystemId();
  await writeFile(file, systemId + '\n', { mode: 0o600 });
  return systemId;
}
