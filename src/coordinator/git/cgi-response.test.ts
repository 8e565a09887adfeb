import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { findHeadEnd, parseCgiHead, readCgiHead, type CgiHead } from './cgi-response.js';

describe('parseCgiHead', () => {
  it('takes the status from the Status header and keeps the others', () => {
    const head = parseCgiHead(
      'Status: 404 Not Found\r\nContent-Type: text/plain\r\nExpires: Fri, 01 Jan 1980',
    );
    expect(head).toEqual({
      status: 404,
      headers: [
        ['Content-Type', 'text/plain'],
        ['Expires', 'Fri, 01 Jan 1980'],
      ],
    });
  });

  it('defaults to 200, or 302 with a Location', () => {
    expect(parseCgiHead('Content-Type: x').status).toBe(200);
    expect(parseCgiHead('Location: /x').status).toBe(302);
  });

  it('drops hop-by-hop headers', () => {
    expect(parseCgiHead('Transfer-Encoding: chunked\nConnection: close\nX-A: 1').headers).toEqual([
      ['X-A', '1'],
    ]);
  });

  it.each(['no colon here', 'Status: abc', 'Status: 999 Nope'])('rejects %j', (block) => {
    expect(() => parseCgiHead(block)).toThrow(/malformed/);
  });
});

describe('findHeadEnd', () => {
  it('finds CRLF and LF blank lines', () => {
    expect(findHeadEnd(Buffer.from('A: 1\r\n\r\nbody'))).toEqual({ headEnd: 4, bodyStart: 8 });
    expect(findHeadEnd(Buffer.from('A: 1\n\nbody'))).toEqual({ headEnd: 4, bodyStart: 6 });
    expect(findHeadEnd(Buffer.from('A: 1\r\n'))).toBeNull();
  });
});

function readHead(stream: PassThrough, limit = 1024): Promise<{ head: CgiHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    readCgiHead(stream, limit, (err, head, rest) => {
      if (err || !head || !rest) reject(err ?? new Error('no head'));
      else resolve({ head, rest });
    });
  });
}

describe('readCgiHead', () => {
  it('parses a head split over chunks and hands back the body bytes', async () => {
    const stream = new PassThrough();
    const result = readHead(stream);
    stream.write('Status: 200 OK\r\nContent-Ty');
    stream.write('pe: application/x-git\r\n\r\n0008NAK\n');
    const { head, rest } = await result;
    expect(head.headers).toEqual([['Content-Type', 'application/x-git']]);
    expect(rest.toString()).toBe('0008NAK\n');
    expect(stream.isPaused()).toBe(true);
  });

  it('fails when the stream ends first or the head is too large', async () => {
    const short = new PassThrough();
    const ended = readHead(short);
    short.end('Content-Type: x\r\n');
    await expect(ended).rejects.toThrow(/ended before/);

    const big = new PassThrough();
    const tooBig = readHead(big, 16);
    big.write('X-Long: ' + 'a'.repeat(64));
    await expect(tooBig).rejects.toThrow(/over 16 bytes/);
  });
});
