import { fastify } from 'fastify';
import { describe, expect, it } from 'vitest';

import { FlotillaError } from '../../shared/errors.js';
import { answered, answerWith } from './answer.js';

const app = fastify({ logger: false });
app.setErrorHandler((err: Error, _request, reply) =>
  reply.code(err instanceof FlotillaError ? err.httpStatus : 500).send({ message: err.message }),
);
app.addHook('onSend', async (_request, reply, payload) => {
  reply.header('x-on-send', 'ran');
  await new Promise((resolve) => setImmediate(resolve));
  return payload;
});
let thenCalls = 0;
app.post('/ok', (_request, reply) => {
  const then = reply.then.bind(reply);
  reply.then = (...args: Parameters<typeof then>) => {
    thenCalls++;
    return then(...args);
  };
  answerWith(reply, async () => {
    await Promise.resolve();
    return answered(reply.code(202).send('202'));
  });
});
app.post('/empty', (_request, reply) => answerWith(reply, async () => answered(reply.code(204).send())));
app.post('/refused', (_request, reply) =>
  answerWith(reply, async () => {
    await Promise.resolve();
    throw new FlotillaError('FLO_ERR_FORBIDDEN', '403 Forbidden');
  }),
);

describe('answerWith', () => {
  it('sends what the route sends, once, through the onSend hooks', async () => {
    const res = await app.inject({ method: 'POST', url: '/ok' });
    expect(res.statusCode).toBe(202);
    expect(res.body).toBe('202');
    expect(res.headers['x-on-send']).toBe('ran');
    expect(thenCalls).toBe(0);
  });

  it('sends an empty 204', async () => {
    const res = await app.inject({ method: 'POST', url: '/empty' });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
  });

  it('hands a rejection to the error handler', async () => {
    const res = await app.inject({ method: 'POST', url: '/refused' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ message: '403 Forbidden' });
  });
});
