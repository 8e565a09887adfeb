import { describe, expect, it } from 'vitest';

import { AnswerHeaders, bufferedResponse } from './buffered-response.js';

const init = { status: 201, statusText: 'Created', headers: { 'content-type': 'application/json' } };

describe('bufferedResponse', () => {
  it('reads the buffer as fetch would, once', async () => {
    const res = bufferedResponse(Buffer.from('\uFEFF{"id":7,"name":"é"}'), init);
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.statusText).toBe('Created');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.bodyUsed).toBe(false);
    expect(await res.json()).toEqual({ id: 7, name: 'é' });
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(TypeError);
  });

  it('gives the same bytes through arrayBuffer, text, body and clone', async () => {
    const bytes = Buffer.from([1, 2, 3, 250]);
    expect(new Uint8Array(await bufferedResponse(bytes, init).arrayBuffer())).toEqual(new Uint8Array(bytes));
    expect(await bufferedResponse(Buffer.from('plain'), init).text()).toBe('plain');
    const streamed = bufferedResponse(bytes, init);
    const chunks: Uint8Array[] = [];
    for await (const chunk of streamed.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    expect(Buffer.concat(chunks)).toEqual(bytes);
    const original = bufferedResponse(Buffer.from('twice'), init);
    const copy = original.clone();
    expect(await copy.text()).toBe('twice');
    expect(await original.text()).toBe('twice');
  });
});

describe('AnswerHeaders', () => {
  const raw: [string, string][] = [
    ['Content-Type', 'application/json'],
    ['set-cookie', 'a=1'],
    ['X-Many', 'one'],
    ['Set-Cookie', 'b=2'],
    ['x-many', ' two\t'],
    ['ETag', '"7"'],
  ];

  it('answers as Headers does: get, has, getSetCookie, iteration in name order', () => {
    const ours = new AnswerHeaders(raw);
    const theirs = new Headers(raw);
    for (const name of ['content-type', 'CONTENT-TYPE', 'x-many', 'set-cookie', 'etag', 'missing']) {
      expect(ours.get(name)).toBe(theirs.get(name));
      expect(ours.has(name)).toBe(theirs.has(name));
    }
    expect(ours.getSetCookie()).toEqual(theirs.getSetCookie());
    expect([...ours]).toEqual([...theirs]);
    expect([...ours.keys()]).toEqual([...theirs.keys()]);
    expect([...ours.values()]).toEqual([...theirs.values()]);
    const seen: string[] = [];
    ours.forEach((value, key) => seen.push(`${key}=${value}`));
    const expected: string[] = [];
    theirs.forEach((value, key) => expected.push(`${key}=${value}`));
    expect(seen).toEqual(expected);
  });

  it('takes a record, pairs or a Headers, and a real Response takes it', async () => {
    expect([...new AnswerHeaders({ A: 'x', b: ['1', '2'] })]).toEqual([
      ['a', 'x'],
      ['b', '1, 2'],
    ]);
    expect([...new AnswerHeaders(new Headers(raw))]).toEqual([...new Headers(raw)]);
    const res = bufferedResponse(Buffer.from('x'), { status: 200, headers: new AnswerHeaders(raw) });
    expect(res.clone().headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('gives a bodiless answer a null body', async () => {
    const res = bufferedResponse(null, { status: 204 });
    expect(res.ok).toBe(true);
    expect(res.body).toBeNull();
    expect(await res.text()).toBe('');
  });
});
