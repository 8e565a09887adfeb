/**
 * `flotilla fleet pause|unpause|auto PROVIDER` by hand, from the built CLI, while a fleet with a
 * primary and a backup provider runs: the paused primary gets no new machines and jobs go to the
 * backup; unpaused, the next machine is the primary's again and the backup is paused again.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLI } from '../../helpers/processes.js';
import { dockerPayload, runDockerJob } from '../docker/harness.js';
import {
  destroyGroup,
  eventually,
  hostAddress,
  localConfig,
  namespaces,
  requireTools,
  startTestFleet,
  type TestFleet,
} from './harness.js';

const PRIMARY = 'e2epa';
const BACKUP = 'e2epb';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-pause-'));
const configPath = join(dir, 'config.toml');
const run = promisify(execFile);
let t: TestFleet | undefined;

beforeAll(() => requireTools());

afterAll(async () => {
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  await destroyGroup(BACKUP, join(dir, 'b'));
  await destroyGroup(PRIMARY, dir);
  expect([...(await namespaces(PRIMARY)), ...(await namespaces(BACKUP))]).toEqual([]);
});

async function fleetCli(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'fleet', ...args, '--config', configPath]);
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function machineOf(log: string): string {
  return /Running on machine (flotilla-e2ep[ab]-\d+)/.exec(log)?.[1] ?? `none in:\n${log}`;
}

describe('pausing a provider by hand', () => {
  it('a paused primary gets no machines and jobs use the backup; unpaused, the primary again', async () => {
    const providers = [
      { name: 'primary', plugin: 'local', plugin_config: localConfig(PRIMARY, dir) },
      {
        name: 'backup',
        plugin: 'local',
        plugin_config: localConfig(BACKUP, join(dir, 'b'), {
          insecure_registries: [`${hostAddress(PRIMARY)}:5000`],
        }),
        backup: true,
      },
    ];
    writeFileSync(
      configPath,
      [
        '[[runners]]',
        `  name = "${PRIMARY}"`,
        '  executor = "docker-autoscaler"',
        '  [runners.autoscaler]',
        '    max_use_count = 1',
        ...providers.map((p) =>
          [
            '    [[runners.autoscaler.providers]]',
            `      name = "${p.name}"`,
            `      plugin = "${p.plugin}"`,
            `      backup = ${p.backup === true}`,
          ].join('\n'),
        ),
        '',
      ].join('\n'),
    );
    t = await startTestFleet({ group: PRIMARY, dir, autoscaler: { providers, max_use_count: 1 } });
    const fleet = t.fleet;
    const status = (name: string): boolean | undefined =>
      fleet.group.status().find((p) => p.name === name)?.paused;
    expect([status('primary'), status('backup')]).toEqual([false, true]);

    const wrong = await fleetCli('pause', 'primay');
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain(
      `no provider "primay" in the docker-autoscaler runners of ${configPath}; known providers: primary, backup [FLO_ERR_CONFIG_INVALID]`,
    );

    const paused = await fleetCli('pause', 'primary');
    expect(paused, paused.output).toMatchObject({ code: 0 });
    expect(paused.output).toContain('provider primary: paused');
    await eventually('the manager to pause the primary', 40, () => status('primary') === true);
    const onBackup = await runDockerJob(t.factory, dockerPayload(['echo while the primary is paused']));
    expect(onBackup.outcome.state, onBackup.log).toBe('success');
    expect(machineOf(onBackup.log)).toMatch(/^flotilla-e2epb-\d+$/);
    expect(await namespaces(PRIMARY)).toEqual([]);
    const metrics = await t.registry.metrics();
    expect(metrics).toContain('flotilla_autoscaler_provider_paused{runner="e2epa",provider="primary"} 1');
    expect(metrics).toContain('flotilla_autoscaler_provider_paused{runner="e2epa",provider="backup"} 0');

    const unpaused = await fleetCli('unpause', 'primary');
    expect(unpaused, unpaused.output).toMatchObject({ code: 0 });
    expect(unpaused.output).toContain('provider primary: unpaused');
    await eventually('the manager to unpause the primary', 40, () => status('primary') === false);
    const onPrimary = await runDockerJob(t.factory, dockerPayload(['echo back on the primary']));
    expect(onPrimary.outcome.state, onPrimary.log).toBe('success');
    expect(machineOf(onPrimary.log)).toMatch(/^flotilla-e2epa-\d+$/);
    expect(status('backup')).toBe(true);

    const auto = await fleetCli('auto', 'primary');
    expect(auto.output).toContain('provider primary: automatic');
    await eventually('both machines removed after their job', 120, async () => {
      return (await namespaces(PRIMARY)).length + (await namespaces(BACKUP)).length === 0;
    });
  });
});
