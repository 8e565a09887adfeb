/** The provider plugins this process's environment names (FLOTILLA_PROVIDER_PLUGINS), loaded and registered. */
import { loadProviderPlugins, PROVIDER_PLUGINS_ENV } from '../autoscaler/providers/plugins.js';

export function loadEnvProviderPlugins(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  return loadProviderPlugins(env[PROVIDER_PLUGINS_ENV], { cwd: process.cwd() });
}
