import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isFlotillaError } from '../../shared/errors.js';
import { loadProviderPlugins } from './plugins.js';
import { ProviderError } from './provider.js';
import { providerFactory, providerNames } from './registry.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'provider-plugins-'));
  // A plugin with its own copy of ProviderError, as a bundled plugin has.
  await writeFile(
    path.join(dir, 'tiny.mjs'),
    `class ProviderError extends Error {
       constructor(kind, message) { super(message); this.name = 'ProviderError'; this.kind = kind; this.created = []; }
     }
     export const providerFactory = {
       name: 'tiny',
       parseConfig: (raw) => ({ size: raw?.size ?? 1 }),
       create: (config) => ({ size: config.size, async increase() { throw new ProviderError('capacity', 'full'); } }),
     };`,
  );
  await writeFile(path.join(dir, 'no-export.mjs'), 'export const somethingElse = 1;\n');
  await writeFile(
    path.join(dir, 'bad-name.mjs'),
    "export const providerFactory = { name: 'My Cloud', parseConfig() {}, create() {} };\n",
  );
  await writeFile(
    path.join(dir, 'no-create.mjs'),
    "export const providerFactory = { name: 'half', parseConfig() {} };\n",
  );
  await writeFile(
    path.join(dir, 'shadow.mjs'),
    "export const providerFactory = { name: 'gce', parseConfig() {}, create() {} };\n",
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(list: string): Promise<Error & { code: string }> {
  const err = await loadProviderPlugins(list, { cwd: dir }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isFlotillaError(err), String(err)).toBe(true);
  return err as Error & { code: string };
}

describe('provider plugins (FLOTILLA_PROVIDER_PLUGINS)', () => {
  it('loads a module by relative path and registers its provider under its name', async () => {
    expect(providerNames()).not.toContain('tiny');
    expect(await loadProviderPlugins(' ./tiny.mjs , ', { cwd: dir })).toEqual(['tiny']);
    expect(providerNames()).toContain('tiny');
    const factory = providerFactory('tiny');
    const group = factory.create(factory.parseConfig({ size: 3 }, { runnerName: 'r' }));
    expect(group).toMatchObject({ size: 3 });
    // Its own ProviderError copy still classifies as a ProviderError (backoff, failover).
    const thrown = await group.increase(1).catch((e: unknown) => e);
    expect(thrown instanceof ProviderError).toBe(true);
    expect((thrown as ProviderError).kind).toBe('capacity');
    // Loading the same list again (a second fleet command in one process) is harmless.
    expect(await loadProviderPlugins(path.join(dir, 'tiny.mjs'), { cwd: '/' })).toEqual(['tiny']);
  });

  it('loads nothing for an unset or empty list', async () => {
    expect(await loadProviderPlugins(undefined, { cwd: dir })).toEqual([]);
    expect(await loadProviderPlugins('', { cwd: dir })).toEqual([]);
  });

  it('refuses, with the entry and what is wrong, a module that cannot load or has no provider', async () => {
    const missing = await refusal('./missing.mjs');
    expect(missing.code).toBe('FLO_ERR_CONFIG_INVALID');
    expect(missing.message).toMatch(/^FLOTILLA_PROVIDER_PLUGINS: "\.\/missing\.mjs" cannot be loaded: /);
    expect(missing.message).toContain(`${path.join(dir, 'missing.mjs')} does not exist`);
    expect((await refusal('./no-export.mjs')).message).toContain(
      '"./no-export.mjs" exports no `providerFactory` object',
    );
    expect((await refusal('./bad-name.mjs')).message).toContain(
      'has providerFactory.name "My Cloud"; expected a name such as "my-cloud"',
    );
    expect((await refusal('./no-create.mjs')).message).toContain('has no function providerFactory.create');
  });

  it('refuses a plugin that takes the name of a built-in provider', async () => {
    const err = await refusal('./shadow.mjs');
    expect(err.message).toMatch(
      /provider "gce" of FLOTILLA_PROVIDER_PLUGINS entry "\.\/shadow\.mjs" is already the name of a built-in provider/,
    );
    expect(providerFactory('gce').name).toBe('gce');
  });

  it('names the plugin variable when a config names an unknown plugin', () => {
    expect(() => providerFactory('fake')).toThrow(
      /unknown autoscaler plugin "fake"; known: local, gce, digitalocean, aws.*FLOTILLA_PROVIDER_PLUGINS/,
    );
  });
});
