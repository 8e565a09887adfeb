/**
 * The complete config.toml examples of docs/providers/*.md stay true: they parse as config.toml,
 * and every provider's `plugin_config` parses with that provider's own schema. A fragment (a block
 * that is only a `[runners.autoscaler.plugin_config]` table) names only keys of the page's provider,
 * with values of their types.
 */
import { readFileSync } from 'node:fs';

import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';

import { parseConfigText } from './load.js';
import { providerEntries } from '../../autoscaler/autoscaler-config.js';
import { providerFactory } from '../../autoscaler/providers/registry.js';

function allTomlBlocks(file: string): string[] {
  const text = readFileSync(new URL(`../../../docs/providers/${file}`, import.meta.url), 'utf8');
  return [...text.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

const isFragment = (block: string): boolean =>
  block.trimStart().startsWith('[runners.autoscaler.plugin_config]');

/** The complete config.toml examples of a page. */
function tomlBlocks(file: string): string[] {
  return allTomlBlocks(file).filter((b) => !isFragment(b));
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

  for (const file of ['gce.md', 'digitalocean.md', 'aws.md']) {
    it(`${file}: every plugin_config fragment names only the provider's keys, with valid values`, () => {
      const schema = providerFactory(file.replace(/\.md$/, '')).configDocs?.schema;
      expect(schema).toBeDefined();
      for (const block of allTomlBlocks(file).filter(isFragment)) {
        const table = (parse(block) as { runners: { autoscaler: { plugin_config: unknown } } }).runners
          .autoscaler.plugin_config;
        expect(() => schema?.partial().strict().parse(table), block).not.toThrow();
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
