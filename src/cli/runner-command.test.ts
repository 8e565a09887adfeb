import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { parseConfigText } from '../runner/config/load.js';
import { startFakeCoordinator, type FakeCoordinator } from '../../test/kits/runner/fake-coordinator.js';
import { registerRunnerCommand } from './runner-command.js';

let coordinator: FakeCoordinator;
let dir: string;
beforeEach(async () => {
  coordinator = await startFakeCoordinator();
  dir = await mkdtemp(join(tmpdir(), 'flo-cli-'));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await coordinator.close();
});

async function cli(...args: string[]): Promise<void> {
  const program = new Command('flotilla').exitOverride();
  registerRunnerCommand(program);
  await program.parseAsync(['node', 'flotilla', ...args]);
}

/** `runner register` against the fake coordinator into this config.toml, with extra flags. */
function register(config: string, token: string, ...extra: string[]): Promise<void> {
  return cli('runner', 'register', '--url', coordinator.url, '--token', token, '--config', config, ...extra);
}

describe('flotilla runner register / unregister', () => {
  it('verifies the token, writes config.toml and the system id, then unregisters', async () => {
    const config = join(dir, 'config.toml');
    await register(config, 'glrt-clitoken12345', '--name', 'one', '--non-interactive');
    await register(config, 'glrt-clitoken67890', '--name', 'two');
    expect(coordinator.calls.filter((c) => c === 'POST /api/v4/runners/verify')).toHaveLength(2);
    const loaded = parseConfigText(await readFile(config, 'utf8'));
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.runners.map((r) => [r.name, r.token, r.executor, r.id])).toEqual([
      ['one', 'glrt-clitoken12345', 'shell', 7],
      ['two', 'glrt-clitoken67890', 'shell', 7],
    ]);
    expect(await readFile(join(dir, '.runner_system_id'), 'utf8')).toMatch(/^[sr]_[0-9a-zA-Z]{12}\n$/);
    await cli('runner', 'unregister', '--config', config, '--name', 'one');
    expect(parseConfigText(await readFile(config, 'utf8')).config.runners.map((r) => r.name)).toEqual([
      'two',
    ]);
    await cli('runner', 'unregister', '--config', config, '--all-runners');
    expect(parseConfigText(await readFile(config, 'utf8')).config.runners).toEqual([]);
    expect(coordinator.calls.filter((c) => c === 'DELETE /api/v4/runners')).toHaveLength(2);
  });

  it('refuses a registration token', async () => {
    await expect(register(join(dir, 'c.toml'), 'GR1348941abc')).rejects.toThrow(/glrt-/);
  });
});
