import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RefUpdate, ServeHttpOptions } from './git-host.js';
import { git, gitCli } from '../../../test/kits/coordinator/git/git-test-kit.js';
import { useServedGitHost } from '../../../test/kits/coordinator/git/served-git-host.js';

const ZERO = '0'.repeat(40);
const pushes: RefUpdate[][] = [];
const options: Pick<ServeHttpOptions, 'allowPush' | 'onPush'> = {
  allowPush: true,
  onPush: (updates) => {
    pushes.push(updates);
  },
};
const served = useServedGitHost('flotilla-git-http', options);

afterEach(async () => {
  await served.server.settled();
  options.allowPush = true;
  pushes.length = 0;
});

let workCount = 0;
async function newWork(): Promise<string> {
  const work = join(served.tmp, `work-${++workCount}`);
  await git(served.tmp, served.tmp, ['init', '-q', '-b', 'main', work]);
  return work;
}

async function commit(work: string, path: string, content: string): Promise<string> {
  await mkdir(join(work, path, '..'), { recursive: true });
  await writeFile(join(work, path), content);
  await git(served.tmp, work, ['add', '-A']);
  await git(served.tmp, work, ['commit', '-q', '-m', `change ${path}`]);
  return git(served.tmp, work, ['rev-parse', 'HEAD']);
}

function repoUrl(fullPath: string): string {
  return `${served.server.baseUrl}/${fullPath}.git`;
}

/** Clones a served repository with `--mirror` into `served.tmp/name` over this protocol version. */
async function mirrorClone(fullPath: string, name: string, version: string): Promise<string> {
  const clone = join(served.tmp, name);
  await git(served.tmp, served.tmp, [
    '-c',
    `protocol.version=${version}`,
    'clone',
    '-q',
    '--mirror',
    repoUrl(fullPath),
    clone,
  ]);
  return clone;
}

/** A pushed repository: main (2 commits), feature (1 more), annotated tag v1 on main. */
async function seedRepository(
  fullPath: string,
): Promise<{ work: string; main: string; feature: string; tag: string }> {
  await served.host.createRepository(fullPath, 'main');
  const work = await newWork();
  await commit(work, 'README.md', 'hello');
  const main = await commit(work, '.gitlab-ci.yml', 'test:\n  script: true\n');
  await git(served.tmp, work, ['tag', '-a', 'v1', '-m', 'v1']);
  await git(served.tmp, work, ['checkout', '-q', '-b', 'feature']);
  const feature = await commit(work, 'src/feature.txt', 'feature');
  await git(served.tmp, work, ['checkout', '-q', 'main']);
  await git(served.tmp, work, ['push', '-q', repoUrl(fullPath), 'main', 'feature', 'v1']);
  await served.server.settled();
  return { work, main, feature, tag: await git(served.tmp, work, ['rev-parse', 'v1']) };
}

describe('push', () => {
  it('receives a new repository and reports every created ref', async () => {
    const { main, feature, tag } = await seedRepository('acme/push');
    expect(pushes).toEqual([
      [
        { ref: 'refs/heads/feature', before: ZERO, after: feature },
        { ref: 'refs/heads/main', before: ZERO, after: main },
        { ref: 'refs/tags/v1', before: ZERO, after: tag },
      ],
    ]);
    expect(await served.host.listBranches('acme/push')).toEqual([
      { name: 'feature', sha: feature },
      { name: 'main', sha: main },
    ]);
  });

  it('reports updates and deletions with their old and new shas', async () => {
    const { work, main, feature } = await seedRepository('acme/update');
    pushes.length = 0;
    const next = await commit(work, 'more.txt', 'more');
    await git(served.tmp, work, ['push', '-q', repoUrl('acme/update'), 'main', ':feature']);
    await served.server.settled();
    expect(pushes).toEqual([
      [
        { ref: 'refs/heads/feature', before: feature, after: ZERO },
        { ref: 'refs/heads/main', before: main, after: next },
      ],
    ]);
    expect(await served.host.changedFiles('acme/update', main, next)).toEqual(['more.txt']);
  });

  it('does not call onPush for a push that changes nothing', async () => {
    const { work } = await seedRepository('acme/noop');
    pushes.length = 0;
    await git(served.tmp, work, ['push', '-q', repoUrl('acme/noop'), 'main']);
    await served.server.settled();
    expect(pushes).toEqual([]);
  });

  it('reports concurrent pushes to one repository separately', async () => {
    const { work } = await seedRepository('acme/concurrent');
    pushes.length = 0;
    const branches = ['b1', 'b2', 'b3'];
    for (const b of branches) await git(served.tmp, work, ['branch', b]);
    await Promise.all(
      branches.map((b) => git(served.tmp, work, ['push', '-q', repoUrl('acme/concurrent'), b])),
    );
    await served.server.settled();
    expect(pushes.map((p) => p.map((u) => u.ref)).sort()).toEqual(branches.map((b) => [`refs/heads/${b}`]));
  });

  it('answers 403 without running git when pushing is not allowed', async () => {
    const { work, main } = await seedRepository('acme/readonly');
    options.allowPush = false;
    pushes.length = 0;
    await commit(work, 'blocked.txt', 'no');
    const result = await gitCli(served.tmp, work, ['push', repoUrl('acme/readonly'), 'main']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/403/);
    expect(await served.host.resolveRef('acme/readonly', 'main')).toBe(main);
    expect(pushes).toEqual([]);
    expect(served.server.requests.at(-1)?.status).toBe(403);
  });

  it('rejects pushes to pipeline refs', async () => {
    const { work } = await seedRepository('acme/hidden');
    const result = await gitCli(served.tmp, work, ['push', repoUrl('acme/hidden'), 'main:refs/pipelines/9']);
    expect(result.code).not.toBe(0);
    expect(await served.host.resolveRef('acme/hidden', 'refs/pipelines/9')).toBeNull();
  });
});

describe('fetch', () => {
  it.each(['0', '2'])('clones every branch and tag back with protocol.version=%s', async (version) => {
    const fullPath = `acme/clone-v${version}`;
    const { work } = await seedRepository(fullPath);
    const clone = await mirrorClone(fullPath, `clone-v${version}`, version);
    const refs = ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags'];
    expect(await git(served.tmp, clone, refs)).toBe(await git(served.tmp, work, refs));
    const protocols = served.server.requests
      .filter((r) => r.url.startsWith(`/${fullPath}.git`))
      .map((r) => r.headers['git-protocol']);
    expect(protocols.includes('version=2')).toBe(version === '2');
  });

  it('serves shallow clones', async () => {
    const { main } = await seedRepository('acme/shallow');
    const clone = join(served.tmp, 'shallow');
    await git(served.tmp, served.tmp, [
      'clone',
      '-q',
      '--depth',
      '1',
      '--branch',
      'main',
      repoUrl('acme/shallow'),
      clone,
    ]);
    expect(await git(served.tmp, clone, ['rev-parse', 'HEAD'])).toBe(main);
    expect(await git(served.tmp, clone, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(await git(served.tmp, clone, ['rev-parse', '--is-shallow-repository'])).toBe('true');
  });

  it.each(['0', '2'])('inflates gzip-compressed requests with protocol.version=%s', async (version) => {
    // Git compresses request bodies over 1 KiB: 40 annotated tags make 40 "want" lines.
    const fullPath = `acme/gzip-v${version}`;
    const { work } = await seedRepository(fullPath);
    const head = await git(served.tmp, work, ['rev-parse', 'HEAD']);
    const tagger = 'tagger T <t@example.test> 1700000000 +0000';
    const stream = Array.from(
      { length: 40 },
      (_, i) => `tag t${i}\nfrom ${head}\n${tagger}\ndata 2\nt${i % 10}\n`,
    );
    await git(served.tmp, work, ['fast-import', '--quiet'], stream.join(''));
    await git(served.tmp, work, ['push', '-q', repoUrl(fullPath), '--tags']);
    const clone = await mirrorClone(fullPath, `gzip-v${version}`, version);
    const refs = ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/tags'];
    expect(await git(served.tmp, clone, refs)).toBe(await git(served.tmp, work, refs));
    const posts = served.server.requests.filter(
      (r) => r.method === 'POST' && r.url === `/${fullPath}.git/git-upload-pack`,
    );
    expect(posts.some((r) => r.headers['content-encoding'] === 'gzip')).toBe(true);
  });

  it.each(['0', '2'])('fetches refs/pipelines/<id> by refspec with protocol.version=%s', async (version) => {
    const fullPath = `acme/pipeline-ref-v${version}`;
    const { feature } = await seedRepository(fullPath);
    await served.host.createPipelineRef(fullPath, 5, feature);
    const runner = await newWork();
    await git(served.tmp, runner, [
      '-c',
      `protocol.version=${version}`,
      'fetch',
      '-q',
      '--depth',
      '1',
      repoUrl(fullPath),
      '+refs/pipelines/5:refs/pipelines/5',
    ]);
    expect(await git(served.tmp, runner, ['rev-parse', 'refs/pipelines/5'])).toBe(feature);
    expect(pushes.some((p) => p.some((u) => u.ref.startsWith('refs/pipelines/')))).toBe(false);
  });
});
