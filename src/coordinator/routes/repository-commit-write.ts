/**
 * Commits made through the API (commits API and files API), with GitLab's rules for the target
 * and start branches, then handled exactly like a push of that branch (pipelines).
 */
import type { CoordinatorContext } from '../context.js';
import type { CommitAction, CommitDetails } from '../git/repository-api.js';
import type { PipelineRecord } from '../store/store.js';
import type { Body } from './http-helpers.js';
import { afterWrite, badRequest, committerOf, type RepoRequest } from './repository-helpers.js';
import * as param from './repository-params.js';

export interface ApiCommit {
  branch: string;
  message: string;
  actions: CommitAction[];
  startBranch?: string | undefined;
  startSha?: string | undefined;
  force?: boolean | undefined;
}

export interface ApiCommitResult {
  commit: CommitDetails;
  /** The parent the change was applied to (null for a first commit). */
  parent: string | null;
  pipelines: PipelineRecord[];
}

const ACTIONS = ['create', 'delete', 'move', 'update', 'chmod'] as const;

/** File content with `encoding` `text` (default) or `base64`; `field` names the parameter. */
export function decodeContent(value: string, encoding: string | undefined, field: string): Buffer {
  if (encoding === undefined || encoding === 'text') return Buffer.from(value, 'utf8');
  if (encoding !== 'base64')
    throw badRequest(`${field.replace(/content$/, 'encoding')} does not have a valid value`);
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw badRequest(`${field} is not valid base64`, field);
  }
  return Buffer.from(compact, 'base64');
}

function parseAction(raw: unknown, i: number): CommitAction {
  const at = `actions[${i}]`;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest(`${at} is invalid`, 'actions');
  const a = raw as Body;
  const action = param.required(a, 'action') as (typeof ACTIONS)[number];
  if (!ACTIONS.includes(action)) throw badRequest(`${at}[action] does not have a valid value`, 'actions');
  const filePath = param.optional(a, 'file_path');
  if (filePath === undefined) throw badRequest(`${at}[file_path] is missing`, 'actions');
  const lastCommitId = param.optional(a, 'last_commit_id');
  const last = lastCommitId === undefined ? {} : { lastCommitId };
  const content = (): Buffer => {
    const c = a['content'];
    if (typeof c !== 'string') throw badRequest(`${at}[content] is missing`, 'actions');
    return decodeContent(c, param.optional(a, 'encoding'), `${at}[content]`);
  };
  const execute = param.flag(a, 'execute_filemode');
  switch (action) {
    case 'create':
    case 'update':
      return {
        action,
        filePath,
        content: content(),
        ...last,
        ...(execute === undefined ? {} : { executeFilemode: execute }),
      };
    case 'delete':
      return { action, filePath, ...last };
    case 'chmod':
      if (execute === undefined) throw badRequest(`${at}[execute_filemode] is missing`, 'actions');
      return { action, filePath, executeFilemode: execute };
    case 'move': {
      const previousPath = param.optional(a, 'previous_path');
      if (previousPath === undefined) throw badRequest(`${at}[previous_path] is missing`, 'actions');
      return {
        action,
        filePath,
        previousPath,
        ...last,
        ...(typeof a['content'] === 'string' ? { content: content() } : {}),
      };
    }
  }
}

/** `actions` of `POST /repository/commits`. */
export function parseActions(value: unknown): CommitAction[] {
  if (value === undefined || value === null || value === '')
    throw badRequest('actions is missing', 'actions');
  if (!Array.isArray(value) || value.length === 0)
    throw badRequest('actions is invalid: give a non-empty array', 'actions');
  return value.map(parseAction);
}

async function startPoint(ctx: CoordinatorContext, r: RepoRequest, input: ApiCommit) {
  const head = (name: string) => ctx.git.resolveRef(r.fullPath, `refs/heads/${name}`);
  const empty = (await ctx.git.listBranchHeads(r.fullPath)).length === 0;
  if (input.startSha !== undefined) {
    if (input.startBranch !== undefined)
      throw badRequest("You can't pass both start_branch and start_sha", 'start_sha');
    if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(input.startSha))
      throw badRequest(`Invalid start_sha '${input.startSha}'`, 'start_sha');
    const found = await ctx.git.getCommit(r.fullPath, input.startSha);
    if (!found) throw badRequest(`Cannot find start_sha '${input.startSha}'`, 'start_sha');
    return { empty, parent: found.id, different: true };
  }
  const start = input.startBranch ?? input.branch;
  const parent = await head(start);
  if (!empty && parent === null)
    throw badRequest('You can only create or edit files when you are on a branch', 'start_branch');
  return { empty, parent, different: start !== input.branch };
}

/** Makes the commit on `input.branch` and runs the push handling; GitLab's 400s on bad input. */
export async function commitThroughApi(
  ctx: CoordinatorContext,
  r: RepoRequest,
  input: ApiCommit,
): Promise<ApiCommitResult> {
  if (!(await ctx.git.isValidRefName(`refs/heads/${input.branch}`)))
    throw badRequest('Branch name is invalid', 'branch');
  const { empty, parent, different } = await startPoint(ctx, r, input);
  const current = await ctx.git.resolveRef(r.fullPath, `refs/heads/${input.branch}`);
  if (!empty && different && current !== null && input.force !== true) {
    throw badRequest(
      `A branch called '${input.branch}' already exists. Switch to that branch in order to make changes`,
      'branch',
    );
  }
  const committer = committerOf(ctx, r.principal);
  const update = await ctx.git.commit(r.fullPath, {
    branch: input.branch,
    parent,
    expectedOld: current,
    actions: input.actions,
    message: input.message,
    author: param.author(r.params, committer),
    committer,
    date: ctx.clock.now(),
  });
  const pipelines = await afterWrite(ctx, r, update);
  const commit = await ctx.git.getCommit(r.fullPath, update.after);
  if (!commit) throw new Error(`the new commit ${update.after} cannot be read back`);
  return { commit, parent, pipelines };
}

/** The common parameters of a write: branch, commit_message, start_branch, start_sha, force. */
export function commitParams(params: Body, actions: () => CommitAction[]): ApiCommit {
  const branch = param.required(params, 'branch');
  const message = param.required(params, 'commit_message');
  return {
    branch,
    message,
    actions: actions(),
    startBranch: param.optional(params, 'start_branch'),
    startSha: param.optional(params, 'start_sha'),
    force: param.flag(params, 'force'),
  };
}
