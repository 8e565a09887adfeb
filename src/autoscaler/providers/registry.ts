/**
 * The providers a manager knows, by `plugin` name: the built-in ones (a new one is a folder and a
 * line in `BUILT_IN`) and the plugins loaded from modules at start (`plugins.ts`).
 */
import { ZodError } from 'zod';

import { configIssueLines } from '../../shared/config-issues.js';
import { FlotillaError } from '../../shared/errors.js';
import { awsProviderFactory } from './aws/provider.js';
import { digitaloceanProviderFactory } from './digitalocean/provider.js';
import { gceProviderFactory } from './gce/provider.js';
import { localProviderFactory } from './local/local-provider.js';
import type { ProviderFactory } from './provider.js';

/** A plugin_config that its provider's schema refuses, as one error naming each key and what is wrong. */
function pluginConfigError(plugin: string, runnerName: string, err: ZodError): FlotillaError {
  const lines = configIssueLines(err);
  return new FlotillaError(
    'FLO_ERR_CONFIG_INVALID',
    `[runners.autoscaler.plugin_config] of runner "${runnerName}" (plugin "${plugin}"):\n${lines.join('\n')}\n` +
      `See docs/config.md for the ${plugin} provider's keys.`,
    { cause: err },
  );
}

/** Forgets a factory's config type (parseConfig's output is what create takes). */
function erase<C>(f: ProviderFactory<C>): ProviderFactory<unknown> {
  return {
    name: f.name,
    ...(f.configDocs ? { configDocs: f.configDocs } : {}),
    parseConfig: (raw, ctx) => {
      try {
        return f.parseConfig(raw, ctx);
      } catch (err) {
        throw err instanceof ZodError ? pluginConfigError(f.name, ctx.runnerName, err) : err;
      }
    },
    create: (config) => f.create(config as C),
  };
}

const BUILT_IN = [localProviderFactory, gceProviderFactory, digitaloceanProviderFactory, awsProviderFactory];

/** The providers this build ships. */
export const PROVIDERS: ReadonlyMap<string, ProviderFactory<unknown>> = new Map(
  BUILT_IN.map((f) => [f.name, erase(f as ProviderFactory<unknown>)]),
);

/** Providers registered at run time (plugins), by name; the factory object as registered, and erased. */
const registered = new Map<
  string,
  { original: ProviderFactory<unknown>; erased: ProviderFactory<unknown> }
>();

/**
 * Adds a provider (a plugin) under its `name`. Registering the same factory again is a no-op; a
 * name that a built-in provider or another factory already has is refused.
 */
export function registerProvider<C>(factory: ProviderFactory<C>, origin = 'a plugin'): void {
  const f = factory as ProviderFactory<unknown>;
  const taken = PROVIDERS.has(f.name) ? 'a built-in provider' : registered.get(f.name);
  if (taken === undefined) {
    registered.set(f.name, { original: f, erased: erase(f) });
    return;
  }
  if (typeof taken === 'object' && taken.original === f) return;
  throw new FlotillaError(
    'FLO_ERR_CONFIG_INVALID',
    `provider "${f.name}" of ${origin} is already the name of ${typeof taken === 'string' ? taken : 'another plugin'}; give the plugin another name`,
  );
}

/** Every provider name a config may use. */
export function providerNames(): string[] {
  return [...PROVIDERS.keys(), ...registered.keys()];
}

export function providerFactory(plugin: string): ProviderFactory<unknown> {
  const f = PROVIDERS.get(plugin) ?? registered.get(plugin)?.erased;
  if (!f)
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `unknown autoscaler plugin "${plugin}"; known: ${providerNames().join(', ')} ` +
        '(a provider plugin is loaded from the modules named in FLOTILLA_PROVIDER_PLUGINS)',
    );
  return f;
}
