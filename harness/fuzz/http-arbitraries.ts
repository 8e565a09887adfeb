/**
 * Generators of hostile HTTP requests against the coordinator's own route table: odd path
 * parameters, query strings, headers (Content-Type, Content-Range, tokens) and bodies (bytes,
 * broken JSON, deep JSON, forms). With a valid admin token in some of them, so requests get past
 * authentication and reach the handlers.
 */
import fc from 'fast-check';

import type { RouteEntry } from '../../src/coordinator/routes/gitlab-http.js';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

const PARAMS = [
  '1',
  '0',
  '-1',
  '999999999999999999999',
  '1.5',
  '1e3',
  'root%2Fp',
  '%2e%2e%2f%2e%2e',
  '%00',
  '%ZZ',
  'NaN',
  'null',
  'main',
  'a'.repeat(300),
  '%F0%9F%92%A9',
  'refs%2Fheads%2Fmain',
  '.gitlab-ci.yml',
] as const;

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=x',
  'application/xml',
  'x/y',
  '',
  ';;;',
] as const;

const paramValue = fc.oneof(fc.constantFrom(...PARAMS), fc.webSegment());

const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'page',
          'per_page',
          'ref',
          'scope[]',
          'status',
          'token',
          'sha',
          'order_by',
          'sort',
          'search',
          'path',
          'recursive',
          'debug_trace',
          'artifact_format',
          'artifact_type',
          'expire_in',
          'service',
          'name',
          'private_token',
        ),
        fc.string({ maxLength: 6 }),
      ),
      fc.oneof(fc.string({ maxLength: 12 }), paramValue),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));

const jsonValue = fc.jsonValue({ maxDepth: 4 });

const body = fc.oneof(
  fc.constant(undefined),
  jsonValue.map((v) => Buffer.from(JSON.stringify(v))),
  fc
    .dictionary(
      fc.constantFrom(
        'token',
        'state',
        'name',
        'ref',
        'key',
        'value',
        'content',
        'variables',
        'info',
        'last_update',
        'tag_list',
        'paused',
        'file_path',
        'branch',
        'commit_message',
        'actions',
        'exit_code',
        'failure_reason',
        'output',
        'checksum',
      ),
      jsonValue,
      { maxKeys: 5 },
    )
    .map((v) => Buffer.from(JSON.stringify(v))),
  fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.from('['.repeat(5000))),
  fc.constant(Buffer.from('{"a":'.repeat(2000))),
  fc.constant(Buffer.from('{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}')),
);

/**
 * Routes that revoke personal access tokens: sent without the admin token, or one request would
 * revoke it and leave the rest of the run at 401 (still fuzzed, up to their authentication).
 */
function revokesTokens(route: RouteEntry): boolean {
  return route.method === 'DELETE' && route.url.startsWith('/api/v4/personal_access_tokens/');
}

export function fuzzRequest(routes: readonly RouteEntry[], adminToken: string): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      route: fc.constantFrom(...routes),
      params: fc.array(paramValue, { minLength: 6, maxLength: 6 }),
      query: queryString,
      contentType: fc.option(fc.constantFrom(...CONTENT_TYPES)),
      contentRange: fc.option(
        fc.oneof(
          fc.constantFrom('0-0', '0--1', '5-2', 'bytes 0-3/4', '-1-3', '9999999999999999999-1'),
          fc.string({ maxLength: 8 }),
        ),
      ),
      token: fc.option(fc.oneof(fc.constant(adminToken), fc.string({ maxLength: 30 }))),
      jobToken: fc.option(fc.string({ maxLength: 30 })),
      body,
    })
    .map(({ route, params, query, contentType, contentRange, token, jobToken, body: b }) => {
      let i = 0;
      const path = route.url
        .replace(/:[a-z_]+/g, () => params[i++ % params.length] ?? '1')
        .replace('*', params[5] ?? 'x');
      const headers: Record<string, string> = {};
      if (contentType !== null) headers['content-type'] = contentType;
      if (contentRange !== null) headers['content-range'] = contentRange;
      if (token !== null && !(token === adminToken && revokesTokens(route))) headers['private-token'] = token;
      if (jobToken !== null) headers['job-token'] = jobToken;
      const hasBody = route.method !== 'GET' && route.method !== 'HEAD';
      return {
        method: route.method,
        path: query ? `${path}?${query}` : path,
        headers,
        body: hasBody ? b : undefined,
      };
    });
}
