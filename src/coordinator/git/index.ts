export type { BranchInfo, CommitInfo, GitHost, RefUpdate, ServeHttpOptions } from './git-host.js';
export { createGitHost, type GitHostOptions } from './create-git-host.js';
export { MAX_READ_FILE_BYTES } from './repo-reads.js';
export { validateFullPath } from './repo-paths.js';
