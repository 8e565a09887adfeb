import { describe, expect, it } from 'vitest';

import { createJobTrace } from './job-trace.js';
import { createMasker, DEFAULT_TOKEN_PREFIXES, MASK, SENSITIVE_URL_PARAMS } from './masker.js';
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

/**
 * The masking rules written as plainly as possible, for the whole text at once: at each position
 * the first needle that matches (secrets longest first, then token prefixes, then URL parameters)
 * wins; a prefix with no value after it masks nothing.
 */
function referenceMask(text: string, secrets: string[], prefixes: readonly string[]): string {
  const tokenByte = /[0-9A-Za-z._-]/;
  const paramByte = (c: string): boolean => c > ' ' && !'&"\'#\x7f'.includes(c);
  const params = [...new Set(SENSITIVE_URL_PARAMS.flatMap((p) => [p, p.toLowerCase()]))].flatMap((name) =>
    ['?', '&'].map((sep) => `${sep}${name}=`),
  );
  const needles = [
    ...[...new Set(secrets)].sort((a, b) => b.length - a.length).map((n) => ({ n, value: null })),
    ...[...new Set(prefixes)].slice(0, 15).map((n) => ({ n, value: (c: string) => tokenByte.test(c) })),
    ...params.map((n) => ({ n, value: paramByte })),
  ];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const hit = needles.find(({ n }) => text.startsWith(n, i));
    if (!hit) {
      out += text[i++];
      continue;
    }
    if (!hit.value) {
      out += MASK;
      i += hit.n.length;
      continue;
    }
    let end = i + hit.n.length;
    while (end < text.length && hit.value(text[end] ?? '')) end++;
    if (end === i + hit.n.length) out += text[i++];
    else {
      out += hit.n + MASK;
      i = end;
    }
  }
  return out;
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

  it.each([11, 12, 13, 14, 15, 16])(
    'masks like the plain reference, with prefixes sharing their start (seed %i)',
    (seed) => {
      let state = seed * 104729;
      const rand = (n: number): number => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
      const secrets = ['s3cr3t', 'glpat-fixedsecret', 'tok&en'];
      const pieces = [
        'gl',
        'glpat-',
        'glrt-',
        'glrtr-',
        'gloas-',
        '_gitlab_session=',
        '?private_token=',
        '&rss_token=',
        '&X-Amz-Signature=',
        '?x-amz-credential=',
        's3cr3t',
        'glpat-fixedsecret',
        'tok&en',
        'abc',
        'Z9_',
        ' ',
        '&',
        '?',
        '\n',
        '"',
      ];
      const text = Array.from({ length: 400 }, () => pieces[rand(pieces.length)]).join('');
      const chunks: string[] = [];
      for (let i = 0; i < text.length;) {
        const n = 1 + rand(40);
        chunks.push(text.slice(i, i + n));
        i += n;
      }
      expect(maskAll(chunks, secrets)).toBe(referenceMask(text, secrets, DEFAULT_TOKEN_PREFIXES));
    },
  );

  it.each([21, 22, 23])(
    'masks like the plain reference while the log changes and the anchors are planned again (seed %i)',
    (seed) => {
      let state = seed * 7919;
      const rand = (n: number): number => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
      const secrets = ['s3cr3t-v4lue', 'glpat-fixedsecret', 'tok&en', 'zzz'];
      // first plain text without '-', '_' or 'z', then text full of them, then plain again
      const plain = ['abc ', 'def\n', '0123', 'gl', 'glpat-', 's3cr3t-v4lue', '?private_token='];
      const dashed = ['---', '__', 'zz', 'zzz', '-z-', 'glrt-', 'tok&en', '&rss_token=', 'glpat-fixedsecret'];
      const section = (vocab: string[], n: number): string =>
        Array.from({ length: n }, () => vocab[rand(vocab.length)]).join('');
      const text = section(plain, 6000) + section(dashed, 6000) + section(plain, 6000);
      const chunks: string[] = [];
      for (let i = 0; i < text.length;) {
        const n = 1 + rand(3000);
        chunks.push(text.slice(i, i + n));
        i += n;
      }
      expect(maskAll(chunks, secrets)).toBe(referenceMask(text, secrets, DEFAULT_TOKEN_PREFIXES));
    },
  );

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
