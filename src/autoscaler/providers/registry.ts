/** The providers this build knows, by `plugin` name. A new provider is a folder and a line here. */
import { awsProviderFactory } from './aws/provider.js';
import { fakeProviderFactory } from './fake/fake-provider.js';
import { digitaloceanProviderFactory } from './digitalocean/provider.js';
import { gceProviderFactory } from './gce/provider.js';
import { localProviderFactory } from './local/local-provider.js';
import type { ProviderFactory } from './provider.js';

/** Forgets a factory's config type (parseConfig's output is what create takes). */
function erase<C>(f: ProviderFactory<C>): ProviderFactory<unknown> {
  return {
    name: f.name,
    parseConfig: (raw, ctx) => f.parseConfig(raw, ctx),
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
