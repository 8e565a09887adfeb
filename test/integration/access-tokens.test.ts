/**
 * Personal access tokens over real HTTP: reading the token in use, revoking it, revoking by id
 * (the owner or an admin only), and that a revoked token is refused from then on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestApi } from '../../harness/api-client.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';

let c: TestCoordinator;

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
});

afterAll(async () => {
  await c?.stop();
});

async function newUserToken(userId: number, name: string): Promise<{ id: number; api: TestApi }> {
  const pat = await c.api.post(`/users/${userId}/personal_access_tokens`, { name, scopes: ['api'] });
  expect(pat.status, pat.text).toBe(201);
  return { id: pat.body.id, api: new TestApi(c.api.baseUrl, pat.body.token) };
}

async function newUser(username: string): Promise<number> {
  const user = await c.api.post('/users', { username, name: username });
  expect(user.status, user.text).toBe(201);
  return user.body.id;
}

describe('personal access tokens', () => {
  it('shows the token in use and revokes it with /self', async () => {
    const { id, api } = await newUserToken(1, 'self');

    const self = await api.get('/personal_access_tokens/self');
    expect(self.status).toBe(200);
    expect(self.body).toMatchObject({
      id,
      name: 'self',
      revoked: false,
      active: true,
      user_id: 1,
      scopes: ['api'],
    });
    expect(self.body.token).toBeUndefined();

    expect((await api.call('DELETE', '/personal_access_tokens/self')).status).toBe(204);
    expect((await api.get('/user')).status).toBe(401);
    expect((await api.get('/personal_access_tokens/self')).status).toBe(401);
    expect((await c.api.get('/user')).status).toBe(200);
  });

  it('lets the owner and an admin revoke by id, and nobody else', async () => {
    const alice = await newUser('alice-pat');
    const bob = await newUser('bob-pat');
    const aliceOne = await newUserToken(alice, 'one');
    const aliceTwo = await newUserToken(alice, 'two');
    const bobs = await newUserToken(bob, 'bobs');

    const refused = await bobs.api.call('DELETE', `/personal_access_tokens/${aliceOne.id}`);
    expect([refused.status, refused.body.message]).toEqual([
      400,
      '400 Bad request - Not permitted to revoke',
    ]);
    expect((await aliceOne.api.get('/user')).status).toBe(200);

    expect((await aliceOne.api.call('DELETE', `/personal_access_tokens/${aliceTwo.id}`)).status).toBe(204);
    expect((await aliceTwo.api.get('/user')).status).toBe(401);
    expect((await c.api.call('DELETE', `/personal_access_tokens/${bobs.id}`)).status).toBe(204);
    expect((await bobs.api.get('/user')).status).toBe(401);
    expect((await aliceOne.api.get('/user')).status).toBe(200);

    const missing = await c.api.call('DELETE', '/personal_access_tokens/999999');
    expect([missing.status, missing.body.message]).toEqual([404, '404 PersonalAccessToken Not Found']);
  });
});
