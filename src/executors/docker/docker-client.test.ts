import http from 'node:http';
import type { AddressInfo } from 'node:net';

import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';

import { isFlotillaError } from '../../shared/errors.js';
import { EngineDisconnectedError, waitContainer } from './docker-client.js';

// A loopback server answering POST /containers/{id}/wait as the Engine does: the headers at once
// (flushed), the body when the container exits. `finish` decides how the answer ends.
let server: http.Server | undefined;

async function engine(finish: (res: http.ServerResponse) => void): Promise<Docker> {
  server = http.createServer((req, res) => {
    if (req.method !== 'POST' || !/^\/containers\/[^/]+\/wait/.test(req.url ?? '')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    setTimeout(() => finish(res), 50);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new Docker({ host: '127.0.0.1', port, protocol: 'http' });
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

describe('waitContainer', () => {
  it('resolves the exit code of the answer body', async () => {
    const docker = await engine((res) => res.end('{"Error":null,"StatusCode":3}\n'));
    await expect(waitContainer(docker.getContainer('0123456789abcdef'))).resolves.toBe(3);
  });

  it('rejects with FLO_ERR_ENGINE_DISCONNECTED when the engine drops the connection after the headers', async () => {
    const docker = await engine((res) => res.socket?.destroy());
    const err: unknown = await waitContainer(docker.getContainer('0123456789abcdef')).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EngineDisconnectedError);
    expect(isFlotillaError(err, 'FLO_ERR_ENGINE_DISCONNECTED')).toBe(true);
    expect((err as Error).message).toBe(
      'the Docker Engine closed the connection during the wait for container 0123456789ab',
    );
  });

  it('names a body without StatusCode', async () => {
    const docker = await engine((res) => res.end('{"Error":{"Message":"boom"}}'));
    await expect(waitContainer(docker.getContainer('abc'))).rejects.toThrow(
      /unexpected answer to the wait for container abc: no StatusCode in/,
    );
  });

  it('passes the engine error of a missing container', async () => {
    server = http.createServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"No such container: x"}'),
    );
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const docker = new Docker({ host: '127.0.0.1', port, protocol: 'http' });
    await expect(waitContainer(docker.getContainer('x'))).rejects.toMatchObject({ statusCode: 404 });
  });
});
