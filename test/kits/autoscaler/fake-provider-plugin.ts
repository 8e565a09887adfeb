/**
 * The `fake` provider as a provider plugin module (docs/providers/plugins.md): e2e and browser
 * tests bundle it (`test/helpers/provider-plugins.ts`) and name it in FLOTILLA_PROVIDER_PLUGINS of a
 * real manager process. It is no part of the build.
 */
export { fakeProviderFactory as providerFactory } from './fake-provider.js';
