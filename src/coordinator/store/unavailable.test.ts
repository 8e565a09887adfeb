import { describe, expect, it } from 'vitest';

import { isConnectionLost, isStoreUnavailable } from './unavailable.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isStoreUnavailable', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['pg_ctl stop -m fast', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up', withCode('the database system is starting up', '57P03')],
    ['a connection exception', withCode('connection failure', '08006')],
    ['a connection cut under a query', new Error('Connection terminated unexpectedly')],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a wrapped cause', new Error('query failed', { cause: withCode('reset', 'ECONNRESET') })],
    ['a stale prepared plan', withCode('cached plan must not change result type', '0A000')],
    ['an aggregate of refusals', new AggregateError([withCode('refused', 'ECONNREFUSED')], 'connect failed')],
  ])('is true for %s', (_what, err) => {
    expect(isStoreUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('duplicate key', '23505')],
    ['a syntax error', withCode('syntax error at or near', '42601')],
    ['another unsupported feature', withCode('FOR UPDATE is not allowed with GROUP BY clause', '0A000')],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('is false for %s', (_what, err) => {
    expect(isStoreUnavailable(err)).toBe(false);
  });
});

describe('isConnectionLost', () => {
  it('is true for a killed backend, a cut connection and a reset socket', () => {
    expect(isConnectionLost(withCode('terminating connection due to administrator command', '57P01'))).toBe(
      true,
    );
    expect(isConnectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLost(withCode('read ECONNRESET', 'ECONNRESET'))).toBe(true);
  });

  it('is false for a stale plan (the connection stays usable) and for query errors', () => {
    expect(isConnectionLost(withCode('cached plan must not change result type', '0A000'))).toBe(false);
    expect(isConnectionLost(withCode('duplicate key', '23505'))).toBe(false);
    expect(isConnectionLost(undefined)).toBe(false);
  });
});
