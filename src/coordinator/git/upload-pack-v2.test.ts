import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { createBatchPool } from './batch-pool.js';
import type { GitHostContext } from './context.js';
import { FLUSH_PKT, pktLine } from './pkt-line.js';
import { gitEnv } from './run-git.js';
import {
  answerLsRefs,
  createUploadPackInfoCache,
  parseLsRefsRequest,
  refPatterns,
  type UploadPackInfo,
} from './upload-pack-v2.js';
import { git, makeTempDir, removeDir } from '../../../test/kits/coordinator/git/git-test-kit.js';

let tmp: string;
let ctx: GitHostContext;
let bare: string;
let info: UploadPackInfo;
const cache = createUploadPackInfoCache();

/** What git's own upload-pack answers to `body` (protocol v2, stateless, as http-backend runs it). */
function realUploadPack(dir: string, body: Buffer): Buffer {
  return execFileSync('git', ['upload-pack', '--stateless-rpc', dir], {
    input: body,
    env: gitEnv({ GIT_PROTOCOL: 'version=2' }),
  });
}

function lsRefsBody(args: string[], caps = ['agent=git/2.39.5', 'object-format=sha1']): Buffer {
  return Buffer.concat([
    pktLine('command=ls-refs\n'),
    ...caps.map((cap) => pktLine(`${cap}\n`)),
    Buffer.from('0001', 'ascii'),
    ...args.map((arg) => pktLine(`${arg}\n`)),
    FLUSH_PKT,
  ]);
}

async function makeBare(name: string): Promise<string> {
  const dir = join(tmp, `${name}.git`);
  await git(tmp, tmp, ['init', '-q', '--bare', '-b', 'main', dir]);
  return dir;
}

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-upload-pack-v2');
  const runner = { gitBinary: 'git', timeoutMs: 30_000 };
  ctx = {
    root: tmp,
    git: runner,
    logger: silentLogger(),
    httpTimeoutMs: 60_000,
    batches: createBatchPool(runner),
  };
  const work = join(tmp, 'work');
  await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
  await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', 'one']);
  await git(tmp, work, ['tag', '-a', 'v1', '-m', 'v1']);
  await git(tmp, work, ['tag', 'light']);
  await git(tmp, work, ['checkout', '-q', '-b', 'main-old']);
  await git(tmp, work, ['commit', '-q', '--allow-empty', '-m', 'two']);
  await git(tmp, work, ['checkout', '-q', 'main']);
  bare = await makeBare('repo');
  await git(tmp, work, ['push', '-q', bare, 'main', 'main-old', 'v1', 'light', 'main-old:refs/pipelines/5']);
  await git(tmp, work, [
    'push',
    '-q',
    bare,
    'main:refs/pipelines/50',
    'main:refs/merge-requests/1/head',
    'main:refs/heads/mam/deep/er',
  ]);
  await git(tmp, bare, ['symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/heads/main-old']);
  // Half of the refs packed, as after a gc.
  await git(tmp, bare, ['pack-refs', '--all']);
  await git(tmp, work, ['push', '-q', bare, 'main:refs/pipelines/6']);
  info = await cache.get(ctx, bare);
});

afterAll(async () => {
  ctx.batches.close();
  await removeDir(tmp);
});

describe('the capability advertisement', () => {
  it('is what upload-pack advertises, read once while the config is unchanged', async () => {
    const real = execFileSync('git', ['upload-pack', '--stateless-rpc', '--advertise-refs', bare], {
      env: gitEnv({ GIT_PROTOCOL: 'version=2' }),
    });
    expect(info.advertisement.equals(real)).toBe(true);
    expect(info.capabilities.get('ls-refs')).toBe('unborn');
    expect(info.lsRefsHere).toBe(true);
    expect(await cache.get(ctx, bare)).toBe(info);
  });

  it('is read again after a config change, and leaves ls-refs to git with hidden refs', async () => {
    const dir = await makeBare('hidden');
    expect((await cache.get(ctx, dir)).lsRefsHere).toBe(true);
    await git(tmp, dir, ['config', 'uploadpack.hideRefs', 'refs/pipelines']);
    expect((await cache.get(ctx, dir)).lsRefsHere).toBe(false);
  });
});

describe('ls-refs', () => {
  const cases: Array<[string, string[]]> = [
    ['no arguments', []],
    ['peel and symrefs', ['peel', 'symrefs', 'unborn']],
    [
      'a clone',
      ['symrefs', 'peel', 'unborn', 'ref-prefix HEAD', 'ref-prefix refs/heads/', 'ref-prefix refs/tags/'],
    ],
    [
      "the runner's fetch",
      [
        'peel',
        'symrefs',
        'unborn',
        'ref-prefix refs/pipelines/5',
        'ref-prefix refs/heads/main',
        'ref-prefix refs/tags/',
      ],
    ],
    [
      'prefixes that are not whole names',
      ['symrefs', 'ref-prefix refs/heads/ma', 'ref-prefix H', 'ref-prefix refs/re'],
    ],
    ['overlapping prefixes', ['peel', 'ref-prefix refs/', 'ref-prefix refs/tags/v', 'ref-prefix refs/tags/']],
    ['a prefix that matches nothing', ['ref-prefix refs/nothing/']],
    [
      'deeper names under a partial prefix',
      ['peel', 'ref-prefix refs/heads/ma', 'ref-prefix refs/pipelines/5'],
    ],
    [
      'a symbolic ref with its target',
      ['symrefs', 'ref-prefix refs/remotes/', 'ref-prefix refs/heads/main-old'],
    ],
  ];

  it.each(cases)('answers %s byte for byte as upload-pack does', async (_name, args) => {
    const body = lsRefsBody(args);
    const request = parseLsRefsRequest(body, info);
    expect(request).not.toBeNull();
    const answer = request && (await answerLsRefs(ctx, bare, request));
    expect(answer?.toString('utf8')).toBe(realUploadPack(bare, body).toString('utf8'));
  });

  it('leaves requests it does not reproduce to git', () => {
    const refuse = (body: Buffer): void => expect(parseLsRefsRequest(body, info)).toBeNull();
    refuse(lsRefsBody(['peel', 'no-such-argument']));
    refuse(lsRefsBody([], ['object-format=sha256']));
    refuse(lsRefsBody([], ['no-such-capability']));
    refuse(Buffer.concat([pktLine('command=fetch\n'), Buffer.from('0001', 'ascii'), FLUSH_PKT]));
    refuse(Buffer.concat([pktLine('command=ls-refs\n'), FLUSH_PKT]));
    refuse(lsRefsBody(['peel']).subarray(0, -2));
    refuse(Buffer.from('garbage'));
  });

  it('leaves a symbolic ref whose target it did not list to git', async () => {
    const request = { peel: false, symrefs: true, unborn: false, prefixes: ['refs/remotes/'] };
    expect(await answerLsRefs(ctx, bare, request)).toBeNull();
  });

  it("lists only the refs under the prefixes (and HEAD's target) with for-each-ref patterns", () => {
    expect(refPatterns(['refs/pipelines/5', 'refs/tags/'], 'refs/heads/main')).toEqual([
      'refs/pipelines/5*',
      'refs/pipelines/5*/**',
      'refs/tags/*',
      'refs/tags/*/**',
      'refs/heads/main',
    ]);
    expect(refPatterns([], 'refs/heads/main')).toEqual([]);
    expect(refPatterns(['refs/heads/', 'HEAD'], 'refs/heads/main')).toEqual([]);
    expect(refPatterns(['refs/heads/[a]'], 'refs/heads/main')).toEqual([]);
  });

  it('leaves an unborn HEAD and a tag of a tag to git', async () => {
    const empty = await makeBare('empty');
    const request = { peel: true, symrefs: true, unborn: true, prefixes: [] };
    expect(await answerLsRefs(ctx, empty, request)).toBeNull();
    const tagged = await makeBare('tagged');
    await git(tmp, tagged, ['config', 'user.name', 'T']);
    await git(tmp, tagged, ['config', 'user.email', 't@example.test']);
    await git(tmp, join(tmp, 'work'), ['push', '-q', tagged, 'main', 'v1']);
    await git(tmp, tagged, ['tag', '-a', 'v1-again', '-m', 'again', 'v1']);
    expect(await answerLsRefs(ctx, tagged, request)).toBeNull();
  });

  it('leaves a detached HEAD to git', async () => {
    const dir = await makeBare('detached');
    await git(tmp, join(tmp, 'work'), ['push', '-q', dir, 'main']);
    const sha = await git(tmp, dir, ['rev-parse', 'main']);
    await writeFile(join(dir, 'HEAD'), `${sha}\n`);
    expect(
      await answerLsRefs(ctx, dir, { peel: false, symrefs: false, unborn: false, prefixes: [] }),
    ).toBeNull();
  });
});
