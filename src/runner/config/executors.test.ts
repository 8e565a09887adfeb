import { describe, expect, it } from 'vitest';

import { isFlotillaError } from '../../shared/errors.js';
import { EXECUTORS, executorTables, sharedExecutorTables, SUPPORTED_EXECUTORS } from './executors.js';
import { validateConfig } from './load.js';
import { runnerConfigSchema } from './schema.js';

const entry = (fields: Record<string, unknown>) => ({
  runners: [{ url: 'http://127.0.0.1:8080', token: 'glrt-abcdefghijkl', ...fields }],
});

function configError(fields: Record<string, unknown>): string {
  try {
    validateConfig(entry(fields));
  } catch (err) {
    if (isFlotillaError(err, 'FLO_ERR_CONFIG_INVALID')) return err.message;
    throw err;
  }
  return '';
}

describe('the executors registered with the runner config', () => {
  it('are the executor values config.toml accepts, in registration order', () => {
    expect(SUPPORTED_EXECUTORS).toEqual(['shell', 'docker', 'docker-autoscaler']);
    expect(configError({ executor: 'kubernetes' })).toContain(
      'must be one of: shell, docker, docker-autoscaler',
    );
  });

  it('own the [[runners]] tables of the schema, each key once', () => {
    const keys = [...Object.keys(executorTables), ...Object.keys(sharedExecutorTables)];
    expect(keys).toEqual(['docker', 'autoscaler', 'cache']);
    for (const key of keys) expect(runnerConfigSchema.shape).toHaveProperty(key);
  });

  it('describe the executor key with every executor', () => {
    const description = runnerConfigSchema.shape.executor.description ?? '';
    for (const e of EXECUTORS) expect(description).toContain(`"${e.name}" ${e.summary}`);
  });

  it('refuse an entry without the table its executor requires, and only for that executor', () => {
    expect(configError({ executor: 'docker-autoscaler' })).toContain(
      'is required with executor = "docker-autoscaler"',
    );
    expect(configError({ executor: 'docker' })).toBe('');
  });

  it('fill in the defaults of the tables they own', () => {
    const { config } = validateConfig(entry({ executor: 'docker' }));
    expect(config.runners[0]?.docker.pull_policy).toEqual(['always']);
    expect(config.runners[0]?.autoscaler).toBeUndefined();
  });
});
