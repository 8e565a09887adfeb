/**
 * GitLab's repository API over real HTTP: branches, tags, commits (with actions), files, tree and
 * compare on a hosted bare repository, and the pipelines API writes create as pushes do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWorkRepo, git, pushTo } from '../../harness/git-repo.js';
import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { tempDir } from '../../harness/temp-dir.js';

let c: TestCoordinator;
let work: { dir: string; remove: () => Promise<void> };
let pid = 0;
let firstSha = '';
const CI = 'build:\n  script: [echo hi]\n';
const repo = (path: string): string => `/projects/${pid}/repository${path}`;

beforeAll(async () => {
  c = await startTestCoordinator({ longPollSeconds: 1 });
  work = await tempDir();
  pid = (await c.api.createProject('repo-api')).id;
  await createWorkRepo(work.dir, { '.gitlab-ci.yml': CI, 'README.md': 'hello\n', 'src/a.txt': 'a\n' });
  firstSha = await git(work.dir, 'rev-parse', 'HEAD');
  await pushTo(work.dir, c.running.url, 'root/repo-api', c.running.rootToken, 'main');
  await c.api.waitForPipeline(pid, (p) => p.sha === firstSha);
});

afterAll(async () => {
  await c.stop();
  await work.remove();
});

describe('commits', () => {
  let apiSha = '';

  it('creates a commit with every action kind, and a push pipeline for it', async () => {
    const res = await c.api.post(repo('/commits'), {
      branch: 'main',
      commit_message: 'api commit\n\nSigned-off-by: A <a@example.com>',
      author_name: 'Ann Author',
      author_email: 'ann@example.com',
      actions: [
        { action: 'create', file_path: 'new/file.txt', content: 'line1\nline2\n' },
        {
          action: 'create',
          file_path: 'bin.dat',
          content: Buffer.from([0, 1, 2]).toString('base64'),
          encoding: 'base64',
        },
        { action: 'update', file_path: 'README.md', content: 'hello world\n' },
        { action: 'move', file_path: 'src/b.txt', previous_path: 'src/a.txt' },
        { action: 'chmod', file_path: 'new/file.txt', execute_filemode: true },
      ],
    });
    expect(res.status).toBe(201);
    apiSha = res.body.id;
    expect(res.body).toMatchObject({
      short_id: apiSha.slice(0, 11),
      title: 'api commit',
      message: 'api commit\n\nSigned-off-by: A <a@example.com>',
      author_name: 'Ann Author',
      author_email: 'ann@example.com',
      committer_name: 'Administrator',
      parent_ids: [firstSha],
      trailers: { 'Signed-off-by': 'A <a@example.com>' },
      stats: { additions: 3, deletions: 1, total: 4 },
      web_url: `${c.running.url}/root/repo-api/-/commit/${apiSha}`,
    });
    expect(res.body.created_at).toBe(res.body.committed_date);
    expect(res.body.last_pipeline).toMatchObject({ sha: apiSha, ref: 'main', source: 'push' });
    const pipeline = await c.api.waitForPipeline(pid, (p) => p.sha === apiSha);
    expect(pipeline).toMatchObject({ ref: 'main', source: 'push', before_sha: firstSha });
    const jobs = await c.api.jobs(pid, pipeline.id);
    expect(jobs.map((j) => j.name)).toEqual(['build']);
  });

  it('shows what the commit did in the tree, the diff and a clone', async () => {
    const tree = await c.api.get(repo('/tree?recursive=true&per_page=100'));
    expect(tree.status).toBe(200);
    const byPath = Object.fromEntries(tree.body.map((e: any) => [e.path, e]));
    expect(Object.keys(byPath).sort()).toEqual(
      ['.gitlab-ci.yml', 'README.md', 'bin.dat', 'new', 'new/file.txt', 'src', 'src/b.txt'].sort(),
    );
    expect(byPath['new']).toMatchObject({ type: 'tree', mode: '040000', name: 'new' });
    expect(byPath['new/file.txt']).toMatchObject({ type: 'blob', mode: '100755', name: 'file.txt' });
    expect(tree.body[0].type).toBe('tree');
    const sub = await c.api.get(repo('/tree?path=src'));
    expect(sub.body).toEqual([expect.objectContaining({ path: 'src/b.txt', name: 'b.txt', type: 'blob' })]);
    expect((await c.api.get(repo('/tree?path=nope'))).body).toMatchObject({ message: '404 Tree Not Found' });

    const diff = await c.api.get(repo(`/commits/${apiSha}/diff`));
    const d = Object.fromEntries(diff.body.map((x: any) => [x.new_path, x]));
    expect(d['README.md']).toMatchObject({ old_path: 'README.md', a_mode: '100644', b_mode: '100644' });
    expect(d['README.md'].diff).toBe('@@ -1 +1 @@\n-hello\n+hello world\n');
    expect(d['new/file.txt']).toMatchObject({ new_file: true, a_mode: '0', b_mode: '100755' });
    expect(d['src/b.txt']).toMatchObject({ renamed_file: true, old_path: 'src/a.txt', diff: '' });

    await git(work.dir, 'pull', '-q', '--ff-only', repoUrl(), 'main');
    expect(await git(work.dir, 'rev-parse', 'HEAD')).toBe(apiSha);
    expect(await git(work.dir, 'show', 'HEAD:README.md')).toBe('hello world');
  });

  it('lists commits with ref_name, path, since/until, all and pagination', async () => {
    const all = await c.api.get(repo('/commits'));
    expect(all.body.map((x: any) => x.id)).toEqual([apiSha, firstSha]);
    expect(all.headers.get('x-total')).toBeNull();
    const paged = await c.api.get(repo('/commits?per_page=1'));
    expect(paged.body.map((x: any) => x.id)).toEqual([apiSha]);
    expect(paged.headers.get('x-next-page')).toBe('2');
    const page2 = await c.api.get(repo('/commits?per_page=1&page=2'));
    expect(page2.body.map((x: any) => x.id)).toEqual([firstSha]);
    expect(page2.headers.get('x-next-page')).toBe('');
    expect((await c.api.get(repo('/commits?path=.gitlab-ci.yml'))).body.map((x: any) => x.id)).toEqual([
      firstSha,
    ]);
    expect((await c.api.get(repo(`/commits?ref_name=${firstSha}`))).body).toHaveLength(1);
    expect((await c.api.get(repo('/commits?until=2000-01-01T00:00:00Z'))).body).toEqual([]);
    expect((await c.api.get(repo('/commits?since=2000-01-01T00:00:00Z'))).body).toHaveLength(2);
    expect((await c.api.get(repo('/commits?since=yesterday-ish'))).status).toBe(400);
    const single = await c.api.get(repo('/commits/main'));
    expect(single.body).toMatchObject({ id: apiSha, stats: { total: 4 }, status: expect.any(String) });
    expect((await c.api.get(repo('/commits/main?stats=false'))).body.stats).toBeUndefined();
    expect((await c.api.get(repo('/commits/deadbeef'))).body).toMatchObject({
      message: '404 Commit Not Found',
    });
  });

  it('refuses bad commits with GitLab messages', async () => {
    const bad = async (body: Record<string, unknown>) =>
      (await c.api.post(repo('/commits'), body)).body.message;
    expect(await bad({ commit_message: 'x', actions: [] })).toBe('branch is missing');
    expect(await bad({ branch: 'main', commit_message: 'x' })).toBe('actions is missing');
    const create = [{ action: 'create', file_path: 'README.md', content: 'x' }];
    expect(await bad({ branch: 'main', commit_message: 'x', actions: create })).toBe(
      'A file with this name already exists',
    );
    const del = [{ action: 'delete', file_path: 'missing.txt' }];
    expect(await bad({ branch: 'main', commit_message: 'x', actions: del })).toBe(
      "A file with this name doesn't exist",
    );
    expect(await bad({ branch: 'nope', commit_message: 'x', actions: del })).toBe(
      'You can only create or edit files when you are on a branch',
    );
    const oops = [{ action: 'frobnicate', file_path: 'a' }];
    expect(await bad({ branch: 'main', commit_message: 'x', actions: oops })).toBe(
      'actions[0][action] does not have a valid value',
    );
    const escape = [{ action: 'create', file_path: '../x', content: 'x' }];
    expect(
      (await c.api.post(repo('/commits'), { branch: 'main', commit_message: 'x', actions: escape })).status,
    ).toBe(400);
    expect((await c.api.get(repo('/commits'))).body).toHaveLength(2);
  });
});

function repoUrl(): string {
  const url = new URL(`${c.running.url}/root/repo-api.git`);
  url.username = 'root';
  url.password = c.running.rootToken;
  return url.toString();
}

describe('files', () => {
  it('reads a file with its metadata, raw, and as HEAD', async () => {
    const res = await c.api.get(repo('/files/new%2Ffile.txt?ref=main'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      file_name: 'file.txt',
      file_path: 'new/file.txt',
      size: 12,
      encoding: 'base64',
      ref: 'main',
      execute_filemode: true,
    });
    expect(Buffer.from(res.body.content, 'base64').toString()).toBe('line1\nline2\n');
    expect(res.body.content_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(res.body.blob_id).toBe(await git(work.dir, 'rev-parse', 'HEAD:new/file.txt'));
    expect(res.body.last_commit_id).toBe(await git(work.dir, 'rev-parse', 'HEAD'));
    const raw = await c.api.get(repo('/files/new%2Ffile.txt/raw?ref=main'));
    expect(raw.text).toBe('line1\nline2\n');
    expect(raw.headers.get('x-gitlab-blob-id')).toBe(res.body.blob_id);
    const head = await c.api.call('HEAD', repo('/files/new%2Ffile.txt?ref=main'));
    expect(head.status).toBe(200);
    expect(head.headers.get('x-gitlab-last-commit-id')).toBe(res.body.last_commit_id);
    expect((await c.api.get(repo('/files/nope.txt?ref=main'))).body).toMatchObject({
      message: '404 File Not Found',
    });
    expect((await c.api.get(repo('/files/README.md'))).body.message).toBe('ref is missing');
  });

  it('creates, updates (with last_commit_id) and deletes files, each a commit with a pipeline', async () => {
    const created = await c.api.post(repo('/files/docs%2Fnote.md'), {
      branch: 'main',
      content: 'note',
      commit_message: 'add note',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ file_path: 'docs/note.md', branch: 'main' });
    const head1 = (await c.api.get(repo('/branches/main'))).body.commit.id;
    expect((await c.api.get(repo('/files/docs%2Fnote.md/raw?ref=main'))).text).toBe('note');
    await c.api.waitForPipeline(pid, (p) => p.sha === head1);

    const stale = await c.api.call('PUT', repo('/files/docs%2Fnote.md'), {
      branch: 'main',
      content: 'x',
      commit_message: 'stale',
      last_commit_id: firstSha,
    });
    expect(stale.status).toBe(400);
    expect(stale.body.message).toContain('has changed since you started editing it');
    const updated = await c.api.call('PUT', repo('/files/docs%2Fnote.md'), {
      branch: 'main',
      content: Buffer.from('note v2').toString('base64'),
      encoding: 'base64',
      commit_message: 'update note',
      last_commit_id: head1,
    });
    expect(updated.status).toBe(200);
    expect((await c.api.get(repo('/files/docs%2Fnote.md/raw?ref=main'))).text).toBe('note v2');

    const onBranch = await c.api.post(repo('/files/docs%2Fother.md'), {
      branch: 'feature/docs',
      start_branch: 'main',
      content: 'other',
      commit_message: 'other on a new branch',
    });
    expect(onBranch.status).toBe(201);
    const pipeline = await c.api.waitForPipeline(pid, (p) => p.ref === 'feature/docs');
    expect(pipeline.source).toBe('push');

    const deleted = await c.api.call('DELETE', repo('/files/docs%2Fnote.md'), {
      branch: 'main',
      commit_message: 'remove note',
    });
    expect(deleted.status).toBe(204);
    expect((await c.api.get(repo('/files/docs%2Fnote.md?ref=main'))).status).toBe(404);
    expect((await c.api.get(repo('/commits/main'))).body.title).toBe('remove note');
  });
});

describe('branches', () => {
  it('creates, lists, searches, shows and deletes branches', async () => {
    const created = await c.api.post(repo(`/branches?branch=topic&ref=${firstSha}`));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'topic',
      merged: true,
      protected: false,
      default: false,
      developers_can_push: false,
      developers_can_merge: false,
      can_push: true,
      web_url: `${c.running.url}/root/repo-api/-/tree/topic`,
      commit: { id: firstSha, title: 'initial commit' },
    });
    await c.api.waitForPipeline(pid, (p) => p.ref === 'topic');
    const list = await c.api.get(repo('/branches'));
    expect(list.body.map((b: any) => b.name)).toEqual(['feature/docs', 'main', 'topic']);
    expect(list.headers.get('x-total')).toBe('3');
    const main = list.body.find((b: any) => b.name === 'main');
    expect(main).toMatchObject({ default: true, protected: true, merged: false });
    expect((await c.api.get(repo('/branches?search=^fea'))).body.map((b: any) => b.name)).toEqual([
      'feature/docs',
    ]);
    expect((await c.api.get(repo('/branches?regex=^(main|topic)$'))).body).toHaveLength(2);
    const paged = await c.api.get(repo('/branches?per_page=2&page=2'));
    expect(paged.body.map((b: any) => b.name)).toEqual(['topic']);
    const slashed = await c.api.get(repo('/branches/feature%2Fdocs'));
    expect(slashed.body).toMatchObject({ name: 'feature/docs', merged: false });
    expect((await c.api.get(repo('/branches/nope'))).body).toMatchObject({ message: '404 Branch Not Found' });
    expect((await c.api.post(repo('/branches?branch=topic&ref=main'))).body.message).toBe(
      'Branch already exists',
    );
    expect((await c.api.post(repo('/branches?branch=x&ref=nope'))).status).toBe(400);
    expect((await c.api.post(repo('/branches?branch=bad..name&ref=main'))).body.message).toBe(
      'Branch name is invalid',
    );
    expect((await c.api.post(repo('/branches?ref=main'))).body.message).toBe('branch is missing');
    expect((await c.api.call('DELETE', repo('/branches/main'))).body.message).toBe(
      'The default branch of a project cannot be deleted.',
    );
    expect((await c.api.call('DELETE', repo('/branches/topic'))).status).toBe(204);
    expect((await c.api.call('DELETE', repo('/branches/topic'))).status).toBe(404);
    expect(await git(work.dir, 'ls-remote', '--heads', repoUrl())).not.toContain('refs/heads/topic');
  });
});

describe('tags', () => {
  it('creates annotated and lightweight tags with pipelines, lists, shows and deletes them', async () => {
    const annotated = await c.api.post(repo('/tags'), {
      tag_name: 'v1.0.0',
      ref: firstSha,
      message: 'first release',
    });
    expect(annotated.status).toBe(201);
    expect(annotated.body).toMatchObject({
      name: 'v1.0.0',
      message: 'first release',
      commit: { id: firstSha },
      release: null,
      protected: false,
    });
    expect(annotated.body.target).not.toBe(firstSha);
    expect(annotated.body.created_at).toEqual(expect.any(String));
    const tagPipeline = await c.api.waitForPipeline(pid, (p) => p.ref === 'v1.0.0');
    expect(tagPipeline).toMatchObject({ sha: firstSha, tag: true, source: 'push' });
    const light = await c.api.post(repo('/tags?tag_name=v1.10.0&ref=main'));
    expect(light.body).toMatchObject({ name: 'v1.10.0', message: '', created_at: null });
    expect(light.body.target).toBe(light.body.commit.id);
    await c.api.post(repo('/tags?tag_name=v1.2.0&ref=main'));
    const byVersion = await c.api.get(repo('/tags?order_by=version&sort=asc'));
    expect(byVersion.body.map((t: any) => t.name)).toEqual(['v1.0.0', 'v1.2.0', 'v1.10.0']);
    expect((await c.api.get(repo('/tags?search=10'))).body.map((t: any) => t.name)).toEqual(['v1.10.0']);
    expect((await c.api.get(repo('/tags/v1.0.0'))).body.message).toBe('first release');
    expect((await c.api.get(repo('/tags/nope'))).body).toMatchObject({ message: '404 Tag Not Found' });
    expect((await c.api.post(repo('/tags?tag_name=v1.0.0&ref=main'))).body.message).toBe(
      'Tag v1.0.0 already exists',
    );
    expect((await c.api.post(repo('/tags?tag_name=v9&ref=nope'))).body.message).toBe(
      'Target nope is invalid',
    );
    expect((await c.api.call('DELETE', repo('/tags/v1.0.0'))).status).toBe(204);
    expect((await c.api.get(repo('/tags/v1.0.0'))).status).toBe(404);
  });
});

describe('compare', () => {
  it('compares refs with merge base or straight', async () => {
    const res = await c.api.get(repo(`/compare?from=${firstSha}&to=main`));
    expect(res.status).toBe(200);
    const main = (await c.api.get(repo('/branches/main'))).body.commit.id;
    expect(res.body.commit.id).toBe(main);
    expect(res.body.commits[0].parent_ids).toEqual([firstSha]);
    expect(res.body.commits[res.body.commits.length - 1].id).toBe(main);
    expect(res.body.diffs.map((d: any) => d.new_path)).toContain('bin.dat');
    expect(res.body).toMatchObject({ compare_timeout: false, compare_same_ref: false });
    expect(res.body.web_url).toBe(`${c.running.url}/root/repo-api/-/compare/${firstSha}...${main}`);
    const back = await c.api.get(repo(`/compare?from=main&to=${firstSha}`));
    expect(back.body).toMatchObject({ commits: [], diffs: [], commit: null });
    const straight = await c.api.get(repo(`/compare?from=main&to=${firstSha}&straight=true`));
    expect(straight.body.diffs.length).toBeGreaterThan(0);
    const same = await c.api.get(repo('/compare?from=main&to=main'));
    expect(same.body).toMatchObject({ compare_same_ref: true, commits: [], diffs: [] });
    expect((await c.api.get(repo('/compare?from=main&to=nope'))).body).toMatchObject({
      message: '404 Ref Not Found',
    });
    expect((await c.api.get(repo('/compare?from=main'))).body.message).toBe('to is missing');
  });

  it('needs a token', async () => {
    const res = await fetch(`${c.running.url}/api/v4${repo('/branches')}`);
    expect(res.status).toBe(401);
  });
});
