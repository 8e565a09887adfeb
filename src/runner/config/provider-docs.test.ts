/**
 * The complete config.toml examples of docs/providers/*.md stay true: they parse as config.toml,
 * and every provider's `plugin_config` parses with that provider's own schema.
 */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { parseConfigText } from './load.js';
import { providerEntries } from '../../autoscaler/autoscaler-config.js';
import { providerFactory } from '../../autoscaler/providers/registry.js';

function tomlBlocks(file: string): string[] {
  const text = readFileSync(new URL(`../../../docs/providers/${file}`, import.meta.url), 'utf8');
  return [...text.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

describe('docs/providers config examples', () => {
  for (const file of ['gce.md', 'digitalocean.md', 'aws.md']) {
    it(`${file}: every config.toml example is valid, plugin_config included`, () => {
      const blocks = tomlBlocks(file);
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) {
        const { config, warnings } = parseConfigText(block, file);
        expect(warnings).toEqual([]);
        for (const runner of config.runners) {
          const autoscaler = runner.autoscaler;
          expect(autoscaler).toBeDefined();
          if (!autoscaler) continue;
          for (const e of providerEntries(autoscaler))
            expect(() =>
              providerFactory(e.plugin).parseConfig(e.plugin_config, { runnerName: runner.name }),
            ).not.toThrow();
        }
      }
    });
  }

  it('the seed layout: GCE in us-east1-c and us-east1-d, DigitalOcean nyc1 as the backup', () => {
    const [block] = tomlBlocks('gce.md');
    const autoscaler = parseConfigText(block ?? '').config.runners[0]?.autoscaler;
    const entries = autoscaler ? providerEntries(autoscaler) : [];
    expect(entries.map((e) => [e.plugin, e.backup])).toEqual([
      ['gce', false],
      ['digitalocean', true],
    ]);
    expect(entries[0]?.plugin_config.zones).toEqual(['us-east1-c', 'us-east1-d']);
    expect(entries[1]?.plugin_config.region).toBe('nyc1');
  });
});
