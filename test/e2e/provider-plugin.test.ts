/**
 * A provider plugin (docs/providers/plugins.md) in a real runner process from the built bundle:
 * the test kits' `fake` provider, bundled into its own ES module, named by
 * FLOTILLA_PROVIDER_PLUGINS. The manager loads it, reports its two providers (primary and
 * backup) to the coordinator and creates its idle machine through it. The build itself never contains the fake provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startDockerProxy, type DockerProxy } from '../helpers/docker-proxy.js';
import { Fleet } from '../helpers/fleet.js';
import { fakeProviderPluginEnv } from '../helpers/provider-plugins.js';

let fleet: Fleet;
let dockerProxy: DockerProxy;

beforeAll(async () => {
  fleet = await Fleet.start();
  dockerProxy = await startDockerProxy();
});

afterAll(async () => {
  await fleet?.stop();
  await dockerProxy?.close();
});

interface ProvidersView {
  managers: Array<{
    providers: Array<{ name: string; paused: boolean }>;
    machines: Array<{ provider: string; state: string }>;
  }>;
}

describe('a provider plugin in a runner process', () => {
  it('is loaded from FLOTILLA_PROVIDER_PLUGINS, reported, and makes machines', async () => {
    const runner = await fleet.addRunner({
      tags: ['plugin'],
      executor: 'docker-autoscaler',
      extraRunner: autoscalerToml(dockerProxy.port),
      env: await fakeProviderPluginEnv(fleet.dir),
    });
    const view = await fleet.api.until(
      async () => {
        const res = await fleet.api.get<ProvidersView>(`/runners/${runner.id}/providers`);
        const manager = res.body.managers?.[0];
        return manager && manager.providers.length === 2 ? manager : undefined;
      },
      'the manager to report its plugin providers',
      60,
      1000,
    );
    expect(view.providers.map((p) => [p.name, p.paused])).toEqual([
      ['fake-a', false],
      ['fake-b', true],
    ]);
    const machines = await fleet.api.until(
      async () => {
        const res = await fleet.api.get<ProvidersView>(`/runners/${runner.id}/providers`);
        const found = res.body.managers?.[0]?.machines ?? [];
        return found.length >= 1 ? found : undefined;
      },
      "the plugin provider's idle machine",
      60,
      1000,
    );
    expect(machines.map((m) => m.provider)).toContain('fake-a');
  });
});

/** Two `fake` providers (a primary and a backup) whose machines' engine is the local Docker Engine. */
function autoscalerToml(port: number): string {
  const provider = (name: string, backup: boolean) => `
    [[runners.autoscaler.providers]]
      name = "${name}"
      plugin = "fake"
      backup = ${backup}
      [runners.autoscaler.providers.plugin_config]
        boot_seconds_min = 0
        boot_seconds_max = 0
        delete_seconds = 0
        docker_host_prefix = "tcp://127.0.0.1:${port}/?"`;
  return `
  [runners.docker]
    image = "alpine"
  [runners.autoscaler]
    capacity_per_instance = 1
    max_instances = 2
    update_interval = "2s"
    update_interval_when_expecting = "1s"
${provider('fake-a', false)}
${provider('fake-b', true)}
    [[runners.autoscaler.policy]]
      idle_count = 1
      idle_time = "30m"
`;
}
