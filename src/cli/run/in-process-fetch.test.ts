import { Readable } from 'node:stream';

import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';

import { nodeBodyOf } from '../../shared/node-body.js';
import { inProcessFetch } from './in-process-fetch.js';

function app() {
  const server = Fastify();
  server.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  server.put('/api/v4/jobs/:id', async (request, reply) => {
    reply.header('x-seen', String(request.headers['job-token'] ?? ''));
    reply.header('set-cookie', ['a=1', 'b=2']);
    return { id: (request.params as { id: string }).id, body: request.body };
  });
  server.patch('/api/v4/jobs/:id/trace', async (request, reply) => {
    const bytes = request.body as Buffer;
    return reply.code(202).header('range', `0-${bytes.length}`).send();
  });
  server.post('/api/v4/jobs/request', async (_request, reply) => reply.code(204).send());
  server.addContentTypeParser(/^multipart\/form-data/, (request, payload, done) => {
    const chunks: Buffer[] = [];
    payload.on('data', (c: Buffer) => chunks.push(c));
    payload.on('end', () =>
      done(null, { type: request.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') }),
    );
  });
  server.post('/api/v4/jobs/:id/artifacts', async (request, reply) => reply.code(201).send(request.body));
  server.get('/api/v4/jobs/:id/artifacts', async (_request, reply) =>
    reply
      .header('content-type', 'application/zip')
      .send(Readable.from([Buffer.from('PK'), Buffer.alloc(70_000, 7)])),
  );
  server.get('/api/v4/slow', () => new Promise((resolve) => setTimeout(() => resolve({ late: true }), 2000)));
  return server;
}

/** An answer of the real Response class, as the global fetch gives. */
async function fetchOther(): Promise<Response> {
  return new Response('x');
}

describe('inProcessFetch', () => {
  it('answers from the app with its status, headers and body', async () => {
    const doFetch = inProcessFetch(app(), 'http://127.0.0.1:4567/');
    const res = await doFetch('http://127.0.0.1:4567/api/v4/jobs/7', {
      method: 'PUT',
      headers: new Headers({ 'content-type': 'application/json', 'JOB-TOKEN': 'tok' }),
      body: JSON.stringify({ state: 'running' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-seen')).toBe('tok');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.json()).toEqual({ id: '7', body: { state: 'running' } });
  });

  it('sends binary bodies and answers bodiless statuses', async () => {
    const doFetch = inProcessFetch(app(), 'http://127.0.0.1:4567');
    const patch = await doFetch('http://127.0.0.1:4567/api/v4/jobs/7/trace', {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array([1, 2, 3, 4, 5]),
    });
    expect(patch.status).toBe(202);
    expect(patch.headers.get('range')).toBe('0-5');
    const none = await doFetch('http://127.0.0.1:4567/api/v4/jobs/request', { method: 'POST' });
    expect(none.status).toBe(204);
    expect(await none.text()).toBe('');
  });

  it('sends a FormData body as multipart, file parts included', async () => {
    const doFetch = inProcessFetch(app(), 'http://127.0.0.1:4567');
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('zip bytes')]), 'artifacts.zip');
    const res = await doFetch('http://127.0.0.1:4567/api/v4/jobs/7/artifacts', {
      method: 'POST',
      body: form,
    });
    expect(res.status).toBe(201);
    expect(res.statusText).toBe('Created');
    const seen = (await res.json()) as { type: string; text: string };
    expect(seen.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.text).toContain('filename="artifacts.zip"');
    expect(seen.text).toContain('zip bytes');
  });

  it('streams answers when asked, with the same bytes and headers', async () => {
    const doFetch = inProcessFetch(app(), 'http://127.0.0.1:4567', fetch, { streamAnswers: true });
    const res = await doFetch('http://127.0.0.1:4567/api/v4/jobs/7/artifacts');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(70_002);
    expect(body.subarray(0, 2).toString()).toBe('PK');
    const none = await doFetch('http://127.0.0.1:4567/api/v4/jobs/request', { method: 'POST' });
    expect(none.status).toBe(204);
    expect(await none.text()).toBe('');
  });

  it('hands a streamed answer over as a Node stream, once', async () => {
    const doFetch = inProcessFetch(app(), 'http://127.0.0.1:4567', fetch, { streamAnswers: true });
    const res = await doFetch('http://127.0.0.1:4567/api/v4/jobs/7/artifacts');
    const own = nodeBodyOf(res);
    expect(own).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const c of own!) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).length).toBe(70_002);
    expect(res.bodyUsed).toBe(true);
    await expect(res.arrayBuffer()).rejects.toThrow(TypeError);
    const viaWeb = await doFetch('http://127.0.0.1:4567/api/v4/jobs/7/artifacts');
    const reader = viaWeb.body!.getReader();
    let length = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) length += r.value.length;
    expect(length).toBe(70_002);
    expect(nodeBodyOf(await fetchOther())).toBeUndefined();
  });

  it("ends the route's stream when the consumer cancels a streamed answer", async () => {
    const server = Fastify();
    const source = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024, 1));
      },
    });
    server.get('/api/v4/jobs/:id/artifacts', async (_request, reply) => reply.send(source));
    const doFetch = inProcessFetch(server, 'http://127.0.0.1:4567', fetch, { streamAnswers: true });
    const res = await doFetch('http://127.0.0.1:4567/api/v4/jobs/7/artifacts');
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await vi.waitFor(() => expect(source.destroyed).toBe(true));
  });

  it('leaves other URLs to the fallback', async () => {
    const seen: string[] = [];
    const fallback: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response('elsewhere');
    };
    const doFetch = inProcessFetch(app(), 'http://127.0.0.1:4567', fallback);
    expect(await (await doFetch('http://127.0.0.1:9999/api/v4/jobs/7')).text()).toBe('elsewhere');
    expect(await (await doFetch('http://127.0.0.1:45678/x')).text()).toBe('elsewhere');
    expect(seen).toEqual(['http://127.0.0.1:9999/api/v4/jobs/7', 'http://127.0.0.1:45678/x']);
  });

  it('rejects with the reason when the signal aborts', async () => {
    const doFetch = inProcessFetch(app(), 'http://127.0.0.1:4567');
    const controller = new AbortController();
    const pending = doFetch('http://127.0.0.1:4567/api/v4/slow', { signal: controller.signal });
    controller.abort(new Error('stopped'));
    await expect(pending).rejects.toThrow('stopped');
  });

  it('leaves no listener on a signal after the answer', async () => {
    const doFetch = inProcessFetch(app(), 'http://127.0.0.1:4567');
    const signal = new AbortController().signal;
    let listeners = 0;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
      listeners++;
      add(...args);
    };
    signal.removeEventListener = (...args: Parameters<AbortSignal['removeEventListener']>) => {
      listeners--;
      remove(...args);
    };
    for (let i = 0; i < 3; i++)
      await doFetch('http://127.0.0.1:4567/api/v4/jobs/request', { method: 'POST', signal });
    expect(listeners).toBe(0);
  });
});
