import { describe, expect, it } from 'vitest';

import { isFlotillaError } from '../../shared/errors.js';
import { providerFactory } from './registry.js';

describe('provider registry', () => {
  it('turns a plugin_config its schema refuses into one config error naming the runner, plugin and keys', () => {
    let thrown: unknown;
    try {
      providerFactory('gce').parseConfig(
        { zones: ['us-east1-c'], max_size: 'x' },
        { runnerName: 'gce-fleet' },
      );
    } catch (err) {
      thrown = err;
    }
    expect(isFlotillaError(thrown)).toBe(true);
    const err = thrown as Error & { code: string };
    expect(err.code).toBe('FLO_ERR_CONFIG_INVALID');
    expect(err.message).toContain('[runners.autoscaler.plugin_config] of runner "gce-fleet" (plugin "gce")');
    expect(err.message).toMatch(/ {2}project: Required/);
    expect(err.message).toMatch(/ {2}max_size: Expected number, received string/);
    expect(err.message).not.toContain('"code"');
  });

  it('names the known plugins for an unknown one', () => {
    expect(() => providerFactory('azure')).toThrow(/unknown autoscaler plugin "azure"; known: .*aws/);
  });
});
