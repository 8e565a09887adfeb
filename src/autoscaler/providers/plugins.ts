/**
 * Provider plugins: modules outside the build, each exporting a `providerFactory` (the
 * `ProviderFactory` of `provider.ts`: `name`, `parseConfig`, `create`), named by the manager's
 * `FLOTILLA_PROVIDER_PLUGINS` (comma-separated file paths, relative to the working directory, or
 * package names) and registered under their `name` before any fleet is built. docs/providers/plugins.md.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { errorMessage, FlotillaError } from '../../shared/errors.js';
import { importModule } from '../../shared/import-module.js';
import type { ProviderFactory } from './provider.js';
import { registerProvider } from './registry.js';

export const PROVIDER_PLUGINS_ENV = 'FLOTILLA_PROVIDER_PLUGINS';

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

function pluginError(spec: string, what: string, cause?: unknown): FlotillaError {
  return new FlotillaError('FLO_ERR_CONFIG_INVALID', `${PROVIDER_PLUGINS_ENV}: "${spec}" ${what}`, { cause });
}

/** The module's `providerFactory`, checked for the shape the registry needs. */
function factoryOf(spec: string, mod: unknown): ProviderFactory<unknown> {
  const f = (mod as { providerFactory?: unknown } | null)?.providerFactory as
    Partial<Record<keyof ProviderFactory, unknown>> | undefined;
  if (f === undefined || f === null || typeof f !== 'object')
    throw pluginError(spec, 'exports no `providerFactory` object (name, parseConfig, create)');
  if (typeof f.name !== 'string' || !NAME.test(f.name))
    throw pluginError(
      spec,
      `has providerFactory.name ${JSON.stringify(f.name)}; expected a name such as "my-cloud" (a-z, 0-9, "-", "_")`,
    );
  for (const key of ['parseConfig', 'create'] as const) {
    if (typeof f[key] !== 'function') throw pluginError(spec, `has no function providerFactory.${key}`);
  }
  return f as ProviderFactory<unknown>;
}

const isPath = (entry: string): boolean => /^(\.{1,2}\/|\/)/.test(entry);

/** The `import()` specifier of one list entry: a path becomes a file URL, a package name stays. */
function specifier(entry: string, cwd: string): string {
  return isPath(entry) ? pathToFileURL(path.resolve(cwd, entry)).href : entry;
}

/** Refuses a path entry whose file is not there, naming the path it was resolved to. */
async function checkExists(entry: string, cwd: string): Promise<void> {
  if (!isPath(entry)) return;
  const file = path.resolve(cwd, entry);
  try {
    await access(file);
  } catch (err) {
    throw pluginError(entry, `cannot be loaded: ${file} does not exist`, err);
  }
}

/**
 * Loads and registers the plugins of `list` (the env value; empty or undefined: none). Returns the
 * registered provider names. Loading the same list again registers nothing new.
 */
export async function loadProviderPlugins(
  list: string | undefined,
  options: { cwd: string; importer?: (specifier: string) => Promise<unknown> },
): Promise<string[]> {
  const importer = options.importer ?? importModule;
  const names: string[] = [];
  for (const entry of (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    await checkExists(entry, options.cwd);
    let mod: unknown;
    try {
      mod = await importer(specifier(entry, options.cwd));
    } catch (err) {
      throw pluginError(entry, `cannot be loaded: ${errorMessage(err)}`, err);
    }
    const factory = factoryOf(entry, mod);
    registerProvider(factory, `${PROVIDER_PLUGINS_ENV} entry "${entry}"`);
    names.push(factory.name);
  }
  return names;
}
