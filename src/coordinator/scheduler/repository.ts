/** What the scheduler needs from git hosting (implemented by src/coordinator/git). */
export interface CommitInfo {
  sha: string;
  title: string;
  message: string;
  authorName: string;
  authorEmail: string;
  committedAt: Date;
}

export interface RepositoryReader {
  readFile(fullPath: string, sha: string, path: string): Promise<string | null>;
  listFiles(fullPath: string, sha: string): Promise<string[]>;
  resolveRef(fullPath: string, ref: string): Promise<string | null>;
  refType(fullPath: string, ref: string): Promise<'branch' | 'tag' | null>;
  changedFiles(fullPath: string, before: string, after: string): Promise<string[] | undefined>;
  commitInfo(fullPath: string, sha: string): Promise<CommitInfo | null>;
  createPipelineRef(fullPath: string, pipelineId: number, sha: string): Promise<void>;
}
