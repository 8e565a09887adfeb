/** GitLab's JSON shapes for the repository API (commits, branches, tags, diffs, tree, files). */
import { createHash } from 'node:crypto';

import type {
  BlobAt,
  CommitDetails,
  DiffStats,
  FileDiff,
  RefHead,
  TagDetails,
  TreeEntry,
} from '../git/repository-api.js';
import type { ProjectRecord } from '../store/store.js';

/** `https://host/ns/project` of a project. */
export function projectUrl(base: string, project: ProjectRecord): string {
  return `${base}/${project.namespacePath}/${project.path}`;
}

/** GitLab prints times with milliseconds: `2024-06-27T05:51:39.000-07:00`. */
export function gitlabTime(iso: string): string {
  return iso.replace(/(:\d\d)(Z|[+-]\d\d:\d\d)$/, '$1.000$2');
}

function trailerMaps(trailers: Array<[string, string]>) {
  const last: Record<string, string> = {};
  const all: Record<string, string[]> = {};
  for (const [key, value] of trailers) {
    last[key] = value;
    (all[key] ??= []).push(value);
  }
  return { trailers: last, extended_trailers: all };
}

export function presentCommit(c: CommitDetails, webBase: string) {
  return {
    id: c.id,
    short_id: c.id.slice(0, 11),
    created_at: gitlabTime(c.committedDate),
    parent_ids: c.parentIds,
    title: c.title,
    message: c.message,
    author_name: c.authorName,
    author_email: c.authorEmail,
    authored_date: gitlabTime(c.authoredDate),
    committer_name: c.committerName,
    committer_email: c.committerEmail,
    committed_date: gitlabTime(c.committedDate),
    ...trailerMaps(c.trailers),
    web_url: `${webBase}/-/commit/${c.id}`,
  };
}

export function presentStats(s: DiffStats) {
  return { additions: s.additions, deletions: s.deletions, total: s.total };
}

export interface BranchFlags {
  merged: boolean;
  protected: boolean;
  default: boolean;
}

export function presentBranch(name: string, commit: CommitDetails, flags: BranchFlags, webBase: string) {
  return {
    name,
    commit: presentCommit(commit, webBase),
    merged: flags.merged,
    protected: flags.protected,
    default: flags.default,
    developers_can_push: false,
    developers_can_merge: false,
    can_push: true,
    web_url: `${webBase}/-/tree/${name}`,
  };
}

export function presentTag(tag: TagDetails, commit: CommitDetails, webBase: string) {
  return {
    name: tag.name,
    message: tag.message,
    target: tag.target,
    commit: presentCommit(commit, webBase),
    release: null,
    protected: false,
    created_at: tag.createdAt === null ? null : gitlabTime(tag.createdAt),
  };
}

export function presentDiff(d: FileDiff) {
  return {
    diff: d.diff,
    collapsed: false,
    too_large: false,
    new_path: d.newPath,
    old_path: d.oldPath,
    a_mode: d.aMode,
    b_mode: d.bMode,
    new_file: d.newFile,
    renamed_file: d.renamedFile,
    deleted_file: d.deletedFile,
  };
}

export function presentTreeEntry(e: TreeEntry) {
  return { id: e.id, name: e.name, type: e.type, path: e.path, mode: e.mode };
}

export interface FileContext {
  path: string;
  ref: string;
  commitId: string;
  lastCommitId: string;
}

/** The metadata of `GET .../files/:file_path` (also sent as `X-Gitlab-*` headers). */
export function fileMetadata(blob: BlobAt, f: FileContext) {
  return {
    file_name: f.path.slice(f.path.lastIndexOf('/') + 1),
    file_path: f.path,
    size: blob.size,
    encoding: 'base64',
    content_sha256: createHash('sha256').update(blob.content).digest('hex'),
    ref: f.ref,
    blob_id: blob.blobId,
    commit_id: f.commitId,
    last_commit_id: f.lastCommitId,
    execute_filemode: blob.mode === '100755',
  };
}

/** The `X-Gitlab-*` headers GitLab sends for a file (HEAD and raw requests). */
export function fileHeaders(meta: ReturnType<typeof fileMetadata>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta)) {
    const name = key
      .split('_')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('-');
    headers[`X-Gitlab-${name}`] = String(value);
  }
  return headers;
}

/** The head of a branch or tag as a sort key for `updated` ordering. */
export function updatedKey(r: RefHead): number {
  return r.committedAt;
}
