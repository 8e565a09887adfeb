import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { isFlotillaError } from '../../shared/errors.js';
import { parseConfigText, validateConfig } from './load.js';
import { loadOrCreateSystemId, systemIdFromMachineId } from './system-id.js';
import { addRunnerToConfigFile, removeRunnersFromConfigFile } from './write.js';

const RUNNER = `[[runners]]\nname = "r1"\nurl = "http://127.0.0.1:1/"\ntoken = "glrt-abcdef123456"\nexecutor = "shell"\n`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isFlotillaError(err, 'FLO_ERR_CONFIG_INVALID')) return err.message;
    throw err;
  }
  throw new Error('expected a config error');
}

describe('parseConfigText', () => {
  it('fills defaults and deep-freezes', () => {
    const { config, warnings } = parseConfigText(RUNNER);
    expect(warnings).toEqual([]);
    expect(config.concurrent).toBe(1);
    expect(config.check_interval).toBe(3);
    expect(config.shutdown_timeout).toBe(30);
    const runner = config.runners[0];
    expect(runner).toMatchObject({ limit: 0, request_concurrency: 1, output_limit: 4096, shell: 'bash' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(runner)).toBe(true);
    expect(Object.isFrozen(runner?.environment)).toBe(true);
  });

  it.each([
    [
      'runners limit string',
      `${RUNNER}limit = "x"\n`,
      'runners[0].limit: must be a non-negative integer, got "x"',
    ],
    [
      'runners negative limit',
      `${RUNNER}limit = -1\n`,
      'runners[0].limit: must be a non-negative integer, got -1',
    ],
    ['concurrent zero', `concurrent = 0\n${RUNNER}`, 'concurrent: must be a positive integer, got 0'],
    [
      'executor',
      RUNNER.replace('"shell"', '"kubernetes"'),
      'runners[0].executor: must be one of: shell, docker, docker-autoscaler, got "kubernetes"',
    ],
    [
      'log_level',
      `log_level = "loud"\n`,
      'log_level: must be one of: debug, info, warn, error, fatal, panic, got "loud"',
    ],
    [
      'check_interval',
      `check_interval = "soon"\n`,
      'check_interval: must be a non-negative number of seconds',
    ],
    ['listen_address', `listen_address = "nowhere"\n`, 'listen_address: must look like "host:port"'],
    ['missing url', RUNNER.replace(/url = .*\n/, ''), 'runners[0].url: is required'],
    [
      'environment entry',
      `${RUNNER}environment = ["oops"]\n`,
      'runners[0].environment[0]: must look like "NAME=value", got "oops"',
    ],
    ['url', RUNNER.replace('http://127.0.0.1:1/', 'ftp://x'), 'runners[0].url: must be an http(s) URL'],
  ])('rejects a bad value (%s) naming the key path', (_name, toml, expected) => {
    expect(errorOf(() => parseConfigText(toml))).toContain(expected);
  });

  it('requires [runners.autoscaler] with the docker-autoscaler executor', () => {
    const toml = RUNNER.replace('"shell"', '"docker-autoscaler"');
    expect(errorOf(() => parseConfigText(toml))).toContain(
      'runners[0].autoscaler: is required with executor = "docker-autoscaler"',
    );
  });

  it("validates [runners.docker] with the docker executor's schema", () => {
    const { config } = parseConfigText(
      `${RUNNER.replace('"shell"', '"docker"')}[runners.docker]\nimage = "busybox"\nprivileged = false\n`,
    );
    expect(config.runners[0]?.docker.image).toBe('busybox');
    expect(config.runners[0]?.docker.spare_helper).toBe(true);
    const off = parseConfigText(`${RUNNER}[runners.docker]\nspare_helper = false\n`);
    expect(off.config.runners[0]?.docker.spare_helper).toBe(false);
    expect(
      errorOf(() => parseConfigText(`${RUNNER}[runners.docker]\npull_policy = "sometimes"\n`)),
    ).toContain('runners[0].docker.pull_policy');
  });

  it('never echoes a token value', () => {
    const message = errorOf(() => parseConfigText(RUNNER.replace('"glrt-abcdef123456"', '""')));
    expect(message).toContain('runners[0].token: must not be empty');
    expect(message).not.toContain('got');
  });

  it.each([
    ['unknown global', `colour = "blue"\n${RUNNER}`, 'colour', 'unknown key; ignored'],
    ['unknown runner key', `${RUNNER}speed = 3\n`, 'runners[0].speed', 'unknown key; ignored'],
    [
      'runners.kubernetes',
      `${RUNNER}[runners.kubernetes]\nimage = "alpine"\n`,
      'runners[0].kubernetes',
      'does not support yet',
    ],
    [
      'session_server',
      `[session_server]\nlisten_address = "0.0.0.0:8093"\n`,
      'session_server',
      'does not support yet',
    ],
  ])('warns about an unknown key (%s)', (_name, toml, path, message) => {
    const { warnings } = parseConfigText(toml);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.path).toBe(path);
    expect(warnings[0]?.message).toContain(message);
  });

  it.each([
    ['a = 1\nb = = 2\n', 'config.toml:2:5: TOML syntax error'],
    ['[[runners]\n', 'config.toml:1:'],
  ])('reports TOML syntax errors with line and column', (toml, expected) => {
    expect(errorOf(() => parseConfigText(toml))).toContain(expected);
  });

  it('accepts durations for seconds keys', () => {
    const { config } = validateConfig({ check_interval: '500ms', shutdown_timeout: '2m' });
    expect(config.check_interval).toBe(0.5);
    expect(config.shutdown_timeout).toBe(120);
  });
});

describe('config file edits and system id', () => {
  it('adds and removes runner entries, keeping other keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flo-cfg-'));
    const path = join(dir, 'config.toml');
    await writeFile(path, `concurrent = 4\nlisten_address = "127.0.0.1:9252"\n`);
    const entry = {
      url: 'http://h/',
      id: 1,
      token: 'glrt-aaaaaaaaaaaa',
      token_obtained_at: new Date(0),
      executor: 'shell',
    };
    await addRunnerToConfigFile(path, { ...entry, name: 'a' });
    await addRunnerToConfigFile(path, { ...entry, name: 'b', token: 'glrt-bbbbbbbbbbbb' });
    const { config } = parseConfigText(await readFile(path, 'utf8'));
    expect(config.concurrent).toBe(4);
    expect(config.runners.map((r) => r.name)).toEqual(['a', 'b']);
    const removed = await removeRunnersFromConfigFile(path, (r) => r.name === 'a');
    expect(removed.map((r) => r.token)).toEqual(['glrt-aaaaaaaaaaaa']);
    const after = parseConfigText(await readFile(path, 'utf8')).config;
    expect(after.runners.map((r) => r.name)).toEqual(['b']);
  });

  it('persists the system id next to config.toml in gitlab-runner format', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flo-sid-'));
    const machineIdFile = join(dir, 'machine-id');
    await writeFile(machineIdFile, 'abc123\n');
    const first = await loadOrCreateSystemId(join(dir, 'config.toml'), [machineIdFile]);
    expect(first).toBe(systemIdFromMachineId('abc123'));
    expect(first).toMatch(/^s_[0-9a-f]{12}$/);
    expect(await readFile(join(dir, '.runner_system_id'), 'utf8')).toBe(`${first}\n`);
    const other = await mkdtemp(join(tmpdir(), 'flo-sid-'));
    expect(await loadOrCreateSystemId(join(other, 'config.toml'), [join(other, 'none')])).toMatch(
      /^r_[0-9a-zA-Z]{12}$/,
    );
    expect(await loadOrCreateSystemId(join(dir, 'config.toml'), [])).toBe(first);
  });
});
