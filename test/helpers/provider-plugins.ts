/**
 * The test kits' provider plugins as real plugin modules: `test/kits/autoscaler/fake-provider-plugin.ts`
 * bundled (with its own zod and its own copy of the provider port) into one ES module in a temp
 * folder, which a manager process loads through FLOTILLA_PROVIDER_PLUGINS (docs/providers/plugins.md).
 * The build never contains it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const KITS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../kits/autoscaler');

/** Bundles the `fake` provider plugin into `dir`; returns the environment that makes a manager load it. */
export async function fakeProviderPluginEnv(dir: string): Promise<{ FLOTILLA_PROVIDER_PLUGINS: string }> {
  const outfile = path.join(dir, 'fake-provider-plugin.mjs');
  await build({
    entryPoints: [path.join(KITS, 'fake-provider-plugin.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  return { FLOTILLA_PROVIDER_PLUGINS: outfile };
}
