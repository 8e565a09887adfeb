import { describe, expect, it } from 'vitest';

import { createJobTrace } from './job-trace.js';
import { createMasker, DEFAULT_TOKEN_PREFIXES } from './masker.js';
import { createOutputLimiter, outputLimitNotice, utf8Boundary } from './output-limit.js';

function maskAll(
  chunks: string[],
  secrets: string[],
  prefixes: readonly string[] = DEFAULT_TOKEN_PREFIXES,
): string {
  const masker = createMasker({ secrets, tokenPrefixes: prefixes });
  const out = chunks.map((c) => masker.write(Buffer.from(c)).toString('utf8'));
  return out.join('') + masker.flush().toString('utf8');
}

/** Every way of splitting `text` into two writes. */
function allSplits(text: string): string[][] {
  return Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]);
}

describe('masker', () => {
  it.each([
    ['password: s3cr3tValue!', ['s3cr3tValue'], 'password: [MASKED]!'],
    ['aa s3cr3tValue bb s3cr3tValue', ['s3cr3tValue'], 'aa [MASKED] bb [MASKED]'],
    ['token glpat-abcdEFGH1234_x rest', [], 'token glpat-[MASKED] rest'],
    ['runner glrt-t1_abc.def-9 end', [], 'runner glrt-[MASKED] end'],
    ['just glpat- alone', [], 'just glpat- alone'],
    ['long longersecret', ['longer', 'longersecret'], 'long [MASKED]'],
    ['no secrets here', ['absent'], 'no secrets here'],
    ['GET /x?private_token=abc%2Fdef&b=1', [], 'GET /x?private_token=[MASKED]&b=1'],
    [
      's3?X-Amz-Signature=f00d&x-amz-credential=AK%2F1 ok',
      [],
      's3?X-Amz-Signature=[MASKED]&x-amz-credential=[MASKED] ok',
    ],
  ])('masks %j', (text, secrets, expected) => {
    expect(maskAll([text], secrets)).toBe(expected);
  });

  it.each(allSplits('before s3cr3tValue and glcbt-TOKEN123 after'))(
    'masks a secret split across writes (%j | %j)',
    (a, b) => {
      expect(maskAll([a, b], ['s3cr3tValue'])).toBe('before [MASKED] and glcbt-[MASKED] after');
    },
  );

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('masks random text split at random points (seed %i)', (seed) => {
    let state = seed * 7919;
    const rand = (n: number): number => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
    const secrets = ['s3cr3tValue', 'secret', 'hunter2hunter2'];
    const pieces = [
      'a',
      'b ',
      's3cr',
      'secr',
      'et',
      'hunter2',
      'glpat-',
      'xyz',
      '\n',
      's3cr3tValue',
      'hunter2hunter2',
    ];
    const text = Array.from({ length: 300 }, () => pieces[rand(pieces.length)]).join('');
    const chunks: string[] = [];
    for (let i = 0; i < text.length;) {
      const n = 1 + rand(12);
      chunks.push(text.slice(i, i + n));
      i += n;
    }
    const masked = maskAll(chunks, secrets);
    expect(masked).toBe(maskAll([text], secrets));
    for (const secret of secrets) expect(masked).not.toContain(secret);
  });

  it('masks a secret split byte by byte', () => {
    const text = 'x=MySecretPassword1;';
    expect(maskAll([...text], ['MySecretPassword1'])).toBe('x=[MASKED];');
  });

  it('releases a held partial match that turns out not to be a secret', () => {
    const masker = createMasker({ secrets: ['secretvalue'], tokenPrefixes: [] });
    expect(masker.write(Buffer.from('abc secr')).toString()).toBe('abc ');
    expect(masker.write(Buffer.from('et!')).toString()).toBe('secret!');
    expect(masker.flush().toString()).toBe('');
  });

  it('flushes a token at the very end', () => {
    expect(maskAll(['id glpat-abc', 'def'], [])).toBe('id glpat-[MASKED]');
  });
});

describe('output limit', () => {
  it.each([
    [Buffer.from('a€b'), 2, 1],
    [Buffer.from('a€b'), 3, 1],
    [Buffer.from('a€b'), 4, 4],
    [Buffer.from('abc'), 2, 2],
  ])('cuts %s at a UTF-8 boundary for max %i → %i', (bytes, max, expected) => {
    expect(utf8Boundary(bytes, max)).toBe(expected);
  });

  it('cuts at the limit, appends gitlab-runner notice once, then drops output', () => {
    const limiter = createOutputLimiter(10);
    expect(limiter.write(Buffer.from('12345')).toString()).toBe('12345');
    expect(limiter.write(Buffer.from('67890abc')).toString()).toBe('67890' + outputLimitNotice(10));
    expect(limiter.truncated).toBe(true);
    expect(limiter.write(Buffer.from('more')).length).toBe(0);
    expect(outputLimitNotice(10)).toBe(
      "\n\x1b[33;1mJob's log exceeded limit of 10 bytes.\nJob execution will continue but no more output will be collected.\x1b[0;m\n",
    );
  });

  it('job trace masks before limiting and keeps a crc32 of what it holds', () => {
    const trace = createJobTrace({ secrets: ['hunter22'], tokenPrefixes: [], limitBytes: 1024 });
    trace.write('pw=hunt');
    trace.write('er22\n');
    trace.finish();
    expect(trace.text()).toBe('pw=[MASKED]\n');
    expect(trace.size).toBe(12);
    expect(trace.checksum()).toMatch(/^crc32:[0-9a-f]{8}$/);
    trace.write('ignored');
    expect(trace.size).toBe(12);
  });
});

describe('JobTrace ranges', () => {
  it('returns any byte range across chunk boundaries', async () => {
    const { createJobTrace } = await import('./job-trace.js');
    const trace = createJobTrace({ limitBytes: 1024 * 1024, secrets: [], tokenPrefixes: [] } as never);
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789';
    for (let i = 0; i < text.length; i += 5) trace.write(text.slice(i, i + 5));
    trace.finish();
    for (const [s, e] of [
      [0, 36],
      [3, 7],
      [4, 6],
      [5, 10],
      [9, 31],
      [35, 36],
      [36, 36],
      [10, 100],
    ] as const) {
      expect(trace.slice(s, e).toString()).toBe(text.slice(s, e));
    }
    expect(trace.size).toBe(36);
  });
});
