/** The providers this build knows, by `plugin` name. A new provider is a folder and a line here. */
import { ZodError } from 'zod';

import { FlotillaError } from '../../shared/errors.js';
import { awsProviderFactory } from './aws/provider.js';
import { fakeProviderFactory } from './fake/fake-provider.js';
import { digitaloceanProviderFactory } from './digitalocean/provider.js';
import { gceProviderFactory } from './gce/provider.js';
import { localProviderFactory } from './local/local-provider.js';
import type { ProviderFactory } from './provider.js';

/** A plugin_config that its provider's schema refuses, as one error naming each key and what is wrong. */
function pluginConfigError(plugin: string, runnerName: string, err: ZodError): FlotillaError {
  const lines = err.issues.map((i) => `  ${i.path.join('.') || '(table)'}: ${i.message}`);
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

export const PROVIDERS: ReadonlyMap<string, ProviderFactory<unknown>> = new Map([
  [localProviderFactory.name, erase(localProviderFactory)],
  [fakeProviderFactory.name, erase(fakeProviderFactory)],
  [gceProviderFactory.name, erase(gceProviderFactory)],
  [digitaloceanProviderFactory.name, erase(digitaloceanProviderFactory)],
  [awsProviderFactory.name, erase(awsProviderFactory)],
]);

export function providerFactory(plugin: string): ProviderFactory<unknown> {
  const f = PROVIDERS.get(plugin);
  if (!f)
    throw new Error(`unknown autoscaler plugin "${plugin}"; known: ${[...PROVIDERS.keys()].join(', ')}`);
  return f;
}
