import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createLogger } from '../shared/logger.js';
import { listenError, startCoordinator } from './start-coordinator.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flotilla-start-coordinator-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('startCoordinator', () => {
  it('says which --listen is taken and what to do, and leaves the data dir free to start again', async () => {
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as net.AddressInfo).port;
    const logger = createLogger({ level: 'error', format: 'json', name: 'test' });
    try {
      await expect(
        startCoordinator({ listen: `127.0.0.1:${port}`, dataDir: dir, logger }),
      ).rejects.toMatchObject({
        code: 'FLO_ERR_CONFIG_INVALID',
        message: `--listen 127.0.0.1:${port}: the address is already in use by another process: stop it, or choose another --listen`,
      });
    } finally {
      other.close();
    }
    const started = await startCoordinator({ listen: '127.0.0.1:0', dataDir: dir, logger });
    await started.close();
  });
});

describe('listenError', () => {
  it('explains the listen errors a user can fix and passes others through', () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    expect(listenError(errno('EACCES'), '0.0.0.0:80')).toMatchObject({
      message: '--listen 0.0.0.0:80: listening on this port needs privileges: choose a port above 1023',
    });
    expect(listenError(errno('EADDRNOTAVAIL'), '10.9.9.9:8080')).toMatchObject({
      code: 'FLO_ERR_CONFIG_INVALID',
    });
    const other = errno('EMFILE');
    expect(listenError(other, '127.0.0.1:8080')).toBe(other);
  });
});
