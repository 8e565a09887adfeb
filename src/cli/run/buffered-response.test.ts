import { describe, expect, it } from 'vitest';

import { bufferedResponse } from './buffered-response.js';

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
