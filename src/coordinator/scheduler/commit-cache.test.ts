import { describe, expect, it } from 'vitest';

import { withCommitCache } from './commit-cache.js';
import type { RepositoryReader } from './repository.js';

function fakeRepos(answers: Record<string, boolean>) {
  const calls: string[] = [];
  const repos = {
    commitInfo: async (_path: string, sha: string) => {
      calls.push(sha);
      return answers[sha]
        ? { sha, title: 't', message: 't', authorName: 'a', authorEmail: 'e', committedAt: new Date(0) }
        : null;
    },
    readFile: async () => 'content',
  } as unknown as RepositoryReader;
  return { repos, calls };
}

describe('withCommitCache', () => {
  it('reads a commit once and passes other calls through', async () => {
    const { repos, calls } = fakeRepos({ a: true });
    const cached = withCommitCache(repos);
    await cached.commitInfo('p', 'a');
    await cached.commitInfo('p', 'a');
    expect(calls).toEqual(['a']);
    expect(await cached.readFile('p', 'a', 'f')).toBe('content');
  });

  it('does not remember a missing commit', async () => {
    const { repos, calls } = fakeRepos({});
    const cached = withCommitCache(repos);
    expect(await cached.commitInfo('p', 'b')).toBeNull();
    await new Promise((r) => setTimeout(r, 0));
    await cached.commitInfo('p', 'b');
    expect(calls).toEqual(['b', 'b']);
  });
});
