import { describe, expect, it } from 'vitest';

import { localProviderConfigSchema } from './local-provider-config.js';
import { nodeExporterArgs, nodeExporterTarget } from './node-exporter.js';

describe('node exporter of a local machine', () => {
  const spec = { namespace: 'flotilla-ci-5', dir: '/d', runDir: '/r', address: '10.231.0.5', port: 9100 };

  it("runs Debian's exporter inside the machine's namespace on the machine's address", () => {
    expect(nodeExporterArgs(spec)).toEqual([
      '--net=/var/run/netns/flotilla-ci-5',
      'prometheus-node-exporter',
      '--web.listen-address=10.231.0.5:9100',
      '--no-collector.systemd',
      '--no-collector.textfile',
    ]);
    expect(nodeExporterTarget(spec)).toBe('10.231.0.5:9100');
  });

  it('is off by default, on port 9100 when enabled, and names a bad port', () => {
    expect(localProviderConfigSchema.parse({})).toMatchObject({
      node_exporter: false,
      node_exporter_port: 9100,
    });
    expect(localProviderConfigSchema.parse({ node_exporter: true, node_exporter_port: 9200 })).toMatchObject({
      node_exporter: true,
      node_exporter_port: 9200,
    });
    const bad = localProviderConfigSchema.safeParse({ node_exporter_port: 70000 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['node_exporter_port']);
  });
});
