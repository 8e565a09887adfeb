import { appendFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { FlotillaError } from '../../shared/errors.js';
import type { GitHostContext } from './context.js';
import { existingRepositoryDir, isBareRepository } from './context.js';
import type { BranchInfo } from './git-host.js';
import { peelToCommit } from './objects.js';
import { parseRefList } from './ref-updates.js';
import { isValidBranchName, repositoryDir, validateObjectId } from './repo-paths.js';
import { runGit } from './run-git.js';

/** Refs only the coordinator writes; receive-pack hides them, so a push can never touch them. */
export const PIPELINE_REFS = 'refs/pipelines/';

/**
 * Per-repository settings, re-applied on every create so an old repository picks up new ones:
 * anonymous-free push over HTTP (the coordinator authenticates), pipeline refs protected from
 * pushes, and partial clone filters for runners.
 */
const REPOSITORY_CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['http.receivepack', 'true'],
  ['receive.hideRefs', PIPELINE_REFS.slice(0, -1)],
  ['uploadpack.allowFilter', 'true'],
];

/** REPOSITORY_CONFIG as config file sections (each key once, values without special characters). */
const REPOSITORY_CONFIG_TEXT = REPOSITORY_CONFIG.map(([key, value]) => {
  const dot = key.indexOf('.');
  return `[${key.slice(0, dot)}]\n\t${key.slice(dot + 1)} = ${value}\n`;
}).join('');

export async function createRepository(
  ctx: GitHostContext,
  fullPath: string,
  defaultBranch: string,
): Promise<void> {
  const dir = repositoryDir(ctx.root, fullPath);
  validateBranchName(defaultBranch);
  if (!(await isBareRepository(dir))) {
    await runGit(ctx.git, null, [
      'init',
      '--bare',
      '--quiet',
      `--initial-branch=${defaultBranch}`,
      '--',
      dir,
    ]);
    // A fresh repository: HEAD is already on the branch, and appending the settings writes what
    // `git config --replace-all` would (one process instead of four).
    await appendFile(join(dir, 'config'), REPOSITORY_CONFIG_TEXT);
    ctx.logger.info({ fullPath }, 'git repository created');
    return;
  }
  await runGit(ctx.git, dir, ['symbolic-ref', 'HEAD', `refs/heads/${defaultBranch}`]);
  for (const [key, value] of REPOSITORY_CONFIG) {
    await runGit(ctx.git, dir, ['config', '--replace-all', key, value]);
  }
}

export async function repositoryExists(ctx: GitHostContext, fullPath: string): Promise<boolean> {
  return isBareRepository(repositoryDir(ctx.root, fullPath));
}

export async function deleteRepository(ctx: GitHostContext, fullPath: string): Promise<void> {
  const dir = repositoryDir(ctx.root, fullPath);
  ctx.batches.forget(dir);
  await rm(dir, { recursive: true, force: true });
  ctx.logger.info({ fullPath }, 'git repository deleted');
}

export async function listBranches(ctx: GitHostContext, fullPath: string): Promise<BranchInfo[]> {
  const dir = await existingRepositoryDir(ctx, fullPath);
  const { stdout } = await runGit(ctx.git, dir, [
    'for-each-ref',
    '--sort=refname',
    '--format=%(objectname) %(refname:strip=2)',
    'refs/heads/',
  ]);
  return [...parseRefList(stdout.toString('utf8'))].map(([name, sha]) => ({ name, sha }));
}

/** Every ref of the repository (name → object id); empty for a repository without commits. */
export async function snapshotRefs(ctx: GitHostContext, dir: string): Promise<Map<string, string>> {
  const { stdout } = await runGit(ctx.git, dir, ['for-each-ref', '--format=%(objectname) %(refname)']);
  return parseRefList(stdout.toString('utf8'));
}

export async function createPipelineRef(
  ctx: GitHostContext,
  fullPath: string,
  pipelineId: number,
  sha: string,
): Promise<void> {
  const ref = pipelineRefName(pipelineId);
  validateObjectId(sha);
  const dir = await existingRepositoryDir(ctx, fullPath);
  if ((await peelToCommit(ctx, dir, sha)) !== sha) {
    throw new FlotillaError('FLO_ERR_NOT_FOUND', `commit ${sha} does not exist in ${fullPath}`, {
      details: { fullPath, sha },
    });
  }
  await ctx.batches.refWriter(dir).update(ref, sha);
}

export async function deletePipelineRef(
  ctx: GitHostContext,
  fullPath: string,
  pipelineId: number,
): Promise<void> {
  const ref = pipelineRefName(pipelineId);
  const dir = await existingRepositoryDir(ctx, fullPath);
  await ctx.batches.refWriter(dir).delete(ref);
}

function pipelineRefName(pipelineId: number): string {
  if (!Number.isSafeInteger(pipelineId) || pipelineId <= 0) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `pipeline id ${pipelineId} is not a positive integer`);
  }
  return `${PIPELINE_REFS}${pipelineId}`;
}

function validateBranchName(name: string): void {
  if (!isValidBranchName(name)) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `"${name}" is not a valid branch name`, {
      details: { defaultBranch: name },
    });
  }
}
