/**
 * The `get_sources` stage for executors that run git on this host: init, point `origin` at the
 * job's repo_url (which embeds `gitlab-ci-token:<job token>@`), fetch the job's refspecs, check out
 * the sha and clean, honouring GIT_STRATEGY (fetch | clone | none | empty), GIT_DEPTH, GIT_CHECKOUT
 * and GIT_CLEAN_FLAGS like gitlab-runner.
 */
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import { variableValue, type JobOutput } from '../executor.js';
import type { Launcher } from './launcher.js';
import { runProcess } from './process.js';
import { linkWorkTree, type SharedSourceStore } from './shared-sources.js';
import { removeUntracked } from './unchanged-work-tree.js';
import { inheritedEnv } from './inherited-env.js';

const GREEN = '\x1b[32;1m';
const RESET = '\x1b[0;m';
const DEFAULT_REFSPECS = ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'];

export interface GetSourcesOptions {
  projectDir: string;
  gitInfo: JobPayload['git_info'];
  variables: readonly JobVariable[];
  output: JobOutput;
  signal: AbortSignal;
  /** Fetch into this store once and link each work tree to it (see shared-sources.ts). */
  shared?: SharedSourceStore;
  /** What starts the git processes (default: detached children of this process). */
  launcher?: Launcher;
  /**
   * With `shared`: runs the checkout and clean in a process of the executor's choosing (see
   * chained-process.ts); null leaves them to get_sources' own process.
   */
  checkout?: CheckoutRunner;
  /**
   * The build folder is thrown away after the job (the docker executor's per-job volume): git's
   * automatic maintenance after the fetch would only cost time.
   */
  disposable?: boolean;
  /**
   * A new, empty repository's `.git` made ahead (prepareEmptyRepository) with the `git init` a job
   * would run: copied into a project folder that has no repository instead of a `git init` there.
   */
  emptyRepository?: Promise<string | null>;
}

/** `git checkout -f -q SHA`, then `git clean CLEAN_ARGS` unless none, in the project directory. */
export type CheckoutRunner = (request: {
  sha: string;
  cleanArgs: readonly string[];
  env: NodeJS.ProcessEnv;
  output: JobOutput;
  signal: AbortSignal;
}) => Promise<number | null>;

const discard = { write(): void {} };

function say(output: JobOutput, text: string): void {
  output.write(`${GREEN}${text}${RESET}\n`);
}

/** Git runs without flotilla's own settings, which may hold secrets (as the job's script does). */
function gitEnv(): NodeJS.ProcessEnv {
  return { ...inheritedEnv(), GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
}

function git(
  options: GetSourcesOptions,
  args: string[],
  output: JobOutput = options.output,
): Promise<number> {
  return runProcess({
    command: 'git',
    args,
    cwd: options.projectDir,
    env: gitEnv(),
    output,
    signal: options.signal,
    ...(options.launcher ? { launcher: options.launcher } : {}),
  });
}

function depthOf(options: GetSourcesOptions): number {
  const fromVariable = variableValue(options.variables, 'GIT_DEPTH');
  const parsed = fromVariable === undefined ? NaN : Number.parseInt(fromVariable, 10);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : options.gitInfo.depth;
}

/** A quoted git config value (the clone URL holds the job token, which may hold any character). */
function configValue(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

interface InitResult {
  code: number;
  /** The repository was made now (its origin is the job's already). */
  created: boolean;
  /** The folder was empty before: nothing untracked can be there to clean after the checkout. */
  fresh: boolean;
}

/** A new repository: a copy of a prepared empty one (`emptyRepository`), else `git init`. */
async function newRepository(options: GetSourcesOptions): Promise<number> {
  const prepared = options.emptyRepository ? await options.emptyRepository : null;
  if (prepared === null) return git(options, ['-c', 'init.defaultBranch=main', 'init', '-q']);
  await cp(prepared, join(options.projectDir, '.git'), { recursive: true });
  return 0;
}

/**
 * A repository in the project folder unless there is one. A new one gets `origin` written with the
 * same keys as `git remote add` (one git process less).
 */
async function initRepository(options: GetSourcesOptions): Promise<InitResult> {
  const { output, projectDir } = options;
  await mkdir(projectDir, { recursive: true });
  if (existsSync(join(projectDir, '.git'))) return { code: 0, created: false, fresh: false };
  const fresh = (await readdir(projectDir)).length === 0;
  const code = await newRepository(options);
  if (code !== 0) return { code, created: false, fresh };
  output.write('Created fresh repository.\n');
  if (!options.shared) {
    const remote = `[remote "origin"]\n\turl = ${configValue(options.gitInfo.repo_url)}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`;
    await appendFile(join(projectDir, '.git', 'config'), remote);
  }
  return { code: 0, created: true, fresh };
}

/**
 * Makes the empty repository that `emptyRepository` copies (with the same `git init` as a job's) in
 * `dir`; resolves with its `.git` folder, or null when git failed.
 */
export async function prepareEmptyRepository(dir: string): Promise<string | null> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const code = await runProcess({
    command: 'git',
    args: ['-c', 'init.defaultBranch=main', 'init', '-q'],
    cwd: dir,
    env: gitEnv(),
    output: discard,
    signal: new AbortController().signal,
  });
  return code === 0 ? join(dir, '.git') : null;
}

async function fetchAndCheckout(options: GetSourcesOptions): Promise<number> {
  const { gitInfo, output } = options;
  const depth = depthOf(options);
  say(output, depth > 0 ? `Fetching changes with git depth set to ${depth}...` : 'Fetching changes...');
  const init = await initRepository(options);
  if (init.code !== 0) return init.code;
  if (options.shared) return linkAndCheckout(options, options.shared, depth, init.fresh);
  if (
    !init.created &&
    (await git(options, ['remote', 'set-url', 'origin', gitInfo.repo_url], discard)) !== 0
  ) {
    const code = await git(options, ['remote', 'add', 'origin', gitInfo.repo_url]);
    if (code !== 0) return code;
  }
  const refspecs = gitInfo.refspecs.length > 0 ? gitInfo.refspecs : DEFAULT_REFSPECS;
  const noMaintenance = options.disposable ? ['-c', 'maintenance.auto=false', '-c', 'gc.auto=0'] : [];
  const fetchArgs = [
    ...noMaintenance,
    'fetch',
    'origin',
    '--no-recurse-submodules',
    '--prune',
    '--quiet',
    ...refspecs,
  ];
  if (depth > 0) fetchArgs.push('--depth', String(depth));
  const fetched = await git(options, fetchArgs);
  if (fetched !== 0) return fetched;
  return checkoutAndClean(options, init.fresh);
}

/**
 * The shared-store path: one fetch per sha into the store, then checkout and clean in one process.
 * `fresh`: the folder was empty before `git init`, so `git clean` would find nothing to remove.
 */
async function linkAndCheckout(
  options: GetSourcesOptions,
  shared: SharedSourceStore,
  depth: number,
  fresh: boolean,
): Promise<number> {
  const { gitInfo, output, variables } = options;
  const refspecs = gitInfo.refspecs.length > 0 ? gitInfo.refspecs : DEFAULT_REFSPECS;
  const snapshot = await shared.fetch({
    repoUrl: gitInfo.repo_url,
    sha: gitInfo.sha,
    depth,
    refspecs,
    env: gitEnv(),
    output,
    signal: options.signal,
  });
  if ('exitCode' in snapshot) return snapshot.exitCode;
  await linkWorkTree(join(options.projectDir, '.git'), snapshot, refspecs, gitInfo.repo_url);
  if (variableValue(variables, 'GIT_CHECKOUT') === 'false') {
    say(output, 'Skipping Git checkout');
    return 0;
  }
  say(output, `Checking out ${gitInfo.sha.slice(0, 8)} as detached HEAD (ref is ${gitInfo.ref})...`);
  const flags = variableValue(variables, 'GIT_CLEAN_FLAGS') ?? '-ffdx';
  const cleanArgs = flags === 'none' || fresh ? [] : flags.split(/\s+/).filter(Boolean);
  const request = { sha: gitInfo.sha, cleanArgs, env: gitEnv(), output, signal: options.signal };
  // A slot folder left at this commit by the last checkout there, with at most untracked paths
  // added, needs no git process: what git clean would remove is removed here, with its output.
  const workTrees = shared.workTrees;
  const untracked = workTrees.untrackedOnly(options.projectDir, request);
  if (untracked === null || !(await removeUntracked(options.projectDir, untracked, output))) {
    const code = (await options.checkout?.(request)) ?? (await checkoutProcess(options.projectDir, request));
    if (code !== 0) {
      workTrees.forget(options.projectDir);
      return code;
    }
    await workTrees.record(options.projectDir, gitInfo.sha, request.env);
  }
  say(output, 'Skipping Git submodules setup');
  return 0;
}

/** Checkout and clean in one process: each spawn from this (large) process costs more than git's work. */
function checkoutProcess(projectDir: string, request: Parameters<CheckoutRunner>[0]): Promise<number> {
  const script = 'sha=$1; shift; git checkout -f -q "$sha" || exit; [ "$#" -eq 0 ] || git clean "$@"';
  return runProcess({
    command: 'sh',
    args: ['-c', script, 'sh', request.sha, ...request.cleanArgs],
    cwd: projectDir,
    env: request.env,
    output: request.output,
    signal: request.signal,
  });
}

/** `fresh`: the folder was empty before `git init`, so `git clean` would find nothing to remove. */
async function checkoutAndClean(options: GetSourcesOptions, fresh: boolean): Promise<number> {
  const { gitInfo, output, variables } = options;
  if (variableValue(variables, 'GIT_CHECKOUT') === 'false') {
    say(output, 'Skipping Git checkout');
    return 0;
  }
  say(output, `Checking out ${gitInfo.sha.slice(0, 8)} as detached HEAD (ref is ${gitInfo.ref})...`);
  const checkedOut = await git(options, ['checkout', '-f', '-q', gitInfo.sha]);
  if (checkedOut !== 0) return checkedOut;
  const flags = variableValue(variables, 'GIT_CLEAN_FLAGS') ?? '-ffdx';
  if (flags !== 'none' && !fresh) {
    const cleaned = await git(options, ['clean', ...flags.split(/\s+/).filter(Boolean)]);
    if (cleaned !== 0) return cleaned;
  }
  say(output, 'Skipping Git submodules setup');
  return 0;
}

/** Runs the get_sources stage; resolves with the exit code of the first failing git command, or 0. */
export async function getSources(options: GetSourcesOptions): Promise<number> {
  const strategy = variableValue(options.variables, 'GIT_STRATEGY') ?? 'fetch';
  switch (strategy) {
    case 'none':
      say(options.output, 'Skipping Git repository setup');
      await mkdir(options.projectDir, { recursive: true });
      return 0;
    case 'empty':
      say(options.output, 'Skipping Git repository setup and creating an empty build directory');
      await rm(options.projectDir, { recursive: true, force: true });
      await mkdir(options.projectDir, { recursive: true });
      return 0;
    case 'clone':
      await rm(options.projectDir, { recursive: true, force: true });
      return fetchAndCheckout(options);
    case 'fetch':
      return fetchAndCheckout(options);
    default:
      options.output.write(`ERROR: unknown GIT_STRATEGY "${strategy}"; use fetch, clone, none or empty\n`);
      return 1;
  }
}
