/** What the scheduler needs from git hosting: the read side of the GitHost port. */
import type { GitHost } from '../git/git-host.js';

export type { CommitInfo } from '../git/git-host.js';

export type RepositoryReader = Pick<
  GitHost,
  'readFile' | 'listFiles' | 'resolveRef' | 'refType' | 'changedFiles' | 'commitInfo' | 'createPipelineRef'
>;
