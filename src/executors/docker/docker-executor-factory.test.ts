import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { systemClock } from '../../shared/clock.js';
import { silentLogger } from '../../shared/logger.js';
import { createDockerExecutorFactory } from './docker-executor-factory.js';

describe('createDockerExecutorFactory', () => {
  it('refuses a bad engine address with one FLO_ERR_CONFIG_INVALID naming the key and the value', () => {
    const make = () =>
      createDockerExecutorFactory({
        config: { host: 'tcp://127.0.0.1:2375/?machine-1' },
        logger: silentLogger(),
        registry: new Registry(),
        clock: systemClock,
        version: '0.0.0',
      });
    expect(make).toThrow(
      expect.objectContaining({
        code: 'FLO_ERR_CONFIG_INVALID',
        message: expect.stringContaining('host: must look like') as string,
      }),
    );
    expect(make).toThrow(/\(got "tcp:\/\/127\.0\.0\.1:2375\/\?machine-1"\)/);
  });
});
