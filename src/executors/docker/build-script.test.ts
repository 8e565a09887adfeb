import { execFileSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { buildStageScript, exportLines, shQuote } from './build-script.js';
import { cacheApplies, cacheKeyFolder, restoreKeys } from '../cache/stages.js';
import { demuxBuffer } from './docker-client.js';

describe('build scripts', () => {
  it.each(['plain', "it's", '$HOME `x` "q"', 'line\nbreak'])('quotes %j verbatim', (text) => {
    expect(execFileSync('sh', ['-c', `printf '%s' ${shQuote(text)}`], { encoding: 'utf8' })).toBe(text);
  });

  it('exports variables (last wins) and writes file variables', () => {
    const lines = exportLines(
      [
        { key: 'A', value: '1', public: true, masked: false },
        { key: 'A', value: '2', public: true, masked: false },
        { key: 'bad-name', value: 'x', public: true, masked: false },
        { key: 'F', value: 'secret', public: false, masked: false, file: true },
      ],
      '/builds/p.tmp',
    );
    expect(lines).toEqual([
      "export A='2'",
      "printf '%s' 'secret' > '/builds/p.tmp/F'",
      "export F='/builds/p.tmp/F'",
    ]);
  });

  it('runs under sh: strict mode, echo, exit code, stdin never eats the script', () => {
    const script = buildStageScript({
      commands: ['echo one', 'cat', 'echo "$A"', 'false', 'echo never'],
      variables: [{ key: 'A', value: 'a b', public: true, masked: false }],
      projectDir: '/tmp/flotilla-script-test',
      tmpDir: '/tmp/flotilla-script-test.tmp',
    });
    let out = '';
    let code = 0;
    try {
      execFileSync('sh', [], { input: script, encoding: 'utf8' });
    } catch (err) {
      const e = err as { status: number; stdout: string };
      code = e.status;
      out = e.stdout;
    }
    expect(code).toBe(1);
    expect(out).toContain('$ echo one');
    expect(out).toContain('one\n');
    expect(out).toContain('a b\n');
    expect(out).not.toContain('never\n');
  });
});

describe('helper cache rules', () => {
  it.each([
    ['deps-protected', 'deps-protected'],
    ['a/b', 'a/b'],
    ['x y', 'x_y'],
    ['../etc', null],
    ['', null],
  ])('key %j → folder %j', (key, folder) => {
    expect(cacheKeyFolder(key)).toBe(folder);
  });

  it('tries the key, the fallback keys, then CACHE_FALLBACK_KEY', () => {
    expect(
      restoreKeys(
        {
          key: 'k',
          untracked: false,
          paths: [],
          policy: 'pull',
          when: 'on_success',
          fallback_keys: ['f1', 'k'],
        },
        'global',
      ),
    ).toEqual(['k', 'f1', 'global']);
  });

  it.each([
    ['pull-push', 'on_success', 'success', true],
    ['pull-push', 'on_success', 'failed', false],
    ['push', 'on_failure', 'failed', true],
    ['pull', 'always', 'success', false],
    ['pull-push', 'always', 'canceled', true],
  ] as const)('policy %s when %s, job %s → saved %s', (policy, when, outcome, saved) => {
    expect(
      cacheApplies({ key: 'k', untracked: false, paths: [], policy, when, fallback_keys: [] }, outcome),
    ).toBe(saved);
  });
});

it('demuxes Docker log frames', () => {
  const frame = (stream: number, text: string) =>
    Buffer.concat([
      Buffer.from([stream, 0, 0, 0]),
      Buffer.from(new Uint32Array([0]).buffer).fill(0, 0, 4),
      Buffer.from(text),
    ]);
  const a = frame(1, 'out\n');
  a.writeUInt32BE(4, 4);
  const b = frame(2, 'err\n');
  b.writeUInt32BE(4, 4);
  expect(demuxBuffer(Buffer.concat([a, b]))).toBe('out\nerr\n');
});
