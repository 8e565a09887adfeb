import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { fleetEntries, setPause } from './fleet-actions.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flotilla-fleet-actions-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function config(text: string): Promise<string> {
  const file = path.join(dir, 'config.toml');
  await writeFile(file, text);
  return file;
}

const SHELL = '[[runners]]\nname = "shell"\nexecutor = "shell"\n';
const FLEET = (name: string, table: string) =>
  `[[runners]]\nname = "${name}"\nexecutor = "docker-autoscaler"\n${table}`;

describe('fleetEntries', () => {
  it('answers the docker-autoscaler runners with their [runners.autoscaler] tables, no token needed', async () => {
    const file = await config(
      SHELL +
        FLEET('a', '[runners.autoscaler]\nplugin = "local"\nmax_use_count = 3\n') +
        FLEET('b', '[runners.autoscaler]\nplugin = "local"\n'),
    );
    const entries = await fleetEntries(file);
    expect(entries.map((e) => [e.name, e.config.max_use_count])).toEqual([
      ['a', 3],
      ['b', expect.any(Number)],
    ]);
    expect(entries[0]?.statePath.startsWith(dir)).toBe(true);
    expect((await fleetEntries(file, 'b')).map((e) => e.name)).toEqual(['b']);
  });

  it('names the key of a bad value by its whole path in the file, as the runner does', async () => {
    const file = await config(
      SHELL + FLEET('a', '[runners.autoscaler]\nplugin = "local"\nmax_use_count = -1\n'),
    );
    await expect(fleetEntries(file)).rejects.toMatchObject({
      code: 'FLO_ERR_CONFIG_INVALID',
      message: expect.stringMatching(
        new RegExp(`^${file} is invalid:\\n {2}runners\\[1\\]\\.autoscaler\\.max_use_count: .*got -1$`),
      ),
    });
  });

  it('says what a docker-autoscaler runner without its table lacks', async () => {
    const file = await config(FLEET('a', ''));
    await expect(fleetEntries(file)).rejects.toThrow(
      'runners[0].autoscaler: set plugin, or list [[runners.autoscaler.providers]]',
    );
  });

  it('gives the line and column of a TOML syntax error, and says a missing file cannot be read', async () => {
    const file = await config('[[runners]]\nname = \n');
    await expect(fleetEntries(file)).rejects.toThrow(/config\.toml:2:\d+: TOML syntax error/);
    await expect(fleetEntries(path.join(dir, 'missing.toml'))).rejects.toMatchObject({
      code: 'FLO_ERR_CONFIG_INVALID',
      message: `cannot read ${path.join(dir, 'missing.toml')}`,
    });
  });

  it('lets a pause be set before the config file exists, and refuses an unknown provider once it does', async () => {
    await expect(setPause(path.join(dir, 'config.toml'), 'primary', true)).resolves.toBeUndefined();
    const file = await config(FLEET('a', '[runners.autoscaler]\nplugin = "local"\n'));
    await expect(setPause(file, 'nope', true)).rejects.toThrow('no provider "nope"');
  });
});
