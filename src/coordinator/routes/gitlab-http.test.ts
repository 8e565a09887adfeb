import { fastify } from 'fastify';
import { describe, expect, it } from 'vitest';

import { installGitLabHttp, recordRoutes } from './gitlab-http.js';

async function app() {
  const a = fastify();
  const routes = recordRoutes(a);
  installGitLabHttp(a);
  a.post('/echo', async (request) => ({ body: request.body ?? null }));
  a.get('/text', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('hi'));
  await a.ready();
  return { a, routes };
}

describe('GitLab HTTP details', () => {
  it('answers JSON with exactly application/json and leaves other types alone', async () => {
    const { a } = await app();
    const json = await a.inject({ method: 'POST', url: '/echo', payload: { x: 1 } });
    expect(json.headers['content-type']).toBe('application/json');
    expect(json.json()).toEqual({ body: { x: 1 } });
    const text = await a.inject({ method: 'GET', url: '/text' });
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('takes an empty JSON body as no parameters, and still refuses bad or poisoned JSON', async () => {
    const { a } = await app();
    const headers = { 'content-type': 'application/json' };
    const empty = await a.inject({ method: 'POST', url: '/echo', headers, payload: '' });
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual({ body: null });
    const blank = await a.inject({ method: 'POST', url: '/echo', headers, payload: '  \n' });
    expect(blank.json()).toEqual({ body: null });
    expect((await a.inject({ method: 'POST', url: '/echo', headers, payload: '{"a":' })).statusCode).toBe(
      400,
    );
    const poisoned = await a.inject({
      method: 'POST',
      url: '/echo',
      headers,
      payload: '{"__proto__":{"x":1}}',
    });
    expect(poisoned.statusCode).toBe(400);
  });

  it('records the route table without the HEAD routes fastify adds', async () => {
    const { routes } = await app();
    expect(routes).toEqual([
      { method: 'POST', url: '/echo' },
      { method: 'GET', url: '/text' },
    ]);
  });
});
