import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { probeTcp, startTcpForwarder } from './tcp-forwarder.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function echoServer(): Promise<number> {
  const server = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return address.port;
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

describe('startTcpForwarder', () => {
  it('pipes bytes both ways to the target and refuses connections once closed', async () => {
    const target = await echoServer();
    const forwarder = await startTcpForwarder('127.0.0.1', 0, '127.0.0.1', target);
    expect(forwarder.port).not.toBe(target);
    expect(await roundTrip(forwarder.port, 'ping')).toBe('ping');
    await forwarder.close();
    expect(await probeTcp('127.0.0.1', forwarder.port, 2000)).toMatch(/ECONNREFUSED/);
  });
});

describe('probeTcp', () => {
  it('resolves null when the connection is accepted', async () => {
    const port = await echoServer();
    expect(await probeTcp('127.0.0.1', port, 2000, 'timed out')).toBeNull();
  });
});
