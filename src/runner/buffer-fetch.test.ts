import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createBufferFetch, type BufferFetch } from './buffer-fetch.js';

let server: http.Server;
let url: string;
let client: BufferFetch;
const seen: { method: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];

beforeEach(async () => {
  seen.length = 0;
  server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method ?? '', headers: req.headers, body });
      res.writeHead(202, { range: `0-${body.length}`, 'job-status': 'running' });
      res.end('202');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = createBufferFetch();
});
afterEach(async () => {
  client.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('buffer fetch', () => {
  it('sends the body and headers as given and answers with the status and headers', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 'z');
    const res = await client(`${url}/api/v4/jobs/1/trace`, {
      method: 'PATCH',
      headers: { 'content-type': 'text/plain', 'content-range': `0-${body.length - 1}` },
      body,
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('range')).toBe(`0-${body.length}`);
    expect(res.headers.get('job-status')).toBe('running');
    expect(seen[0]?.method).toBe('PATCH');
    expect(seen[0]?.headers['content-range']).toBe(`0-${body.length - 1}`);
    expect(seen[0]?.headers['content-length']).toBe(String(body.length));
    expect(seen[0]?.body.equals(body)).toBe(true);
  });

  it('reuses one connection for requests in turn', async () => {
    const sockets = new Set<unknown>();
    server.on('connection', (s) => sockets.add(s));
    for (let i = 0; i < 3; i++) await client(`${url}/x`, { method: 'PATCH', body: Buffer.from(`n${i}`) });
    expect(seen.map((s) => s.body.toString())).toEqual(['n0', 'n1', 'n2']);
    expect(sockets.size).toBe(1);
  });

  it('sends again on a new connection when the server closed the idle one', async () => {
    await client(`${url}/x`, { method: 'PATCH', body: Buffer.from('first') });
    // the server drops its idle keep-alive connections (as at its keep-alive timeout)
    server.closeIdleConnections();
    const res = await client(`${url}/x`, { method: 'PATCH', body: Buffer.from('second') });
    expect(res.status).toBe(202);
    expect(seen.map((s) => s.body.toString())).toEqual(['first', 'second']);
  });

  it('rejects when nothing listens, as fetch does', async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server = http.createServer();
    await expect(client(`${url}/x`, { method: 'PATCH', body: Buffer.from('x') })).rejects.toThrow();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
});
