/**
 * PURE: the `get_sources` stage of the docker executor as one POSIX shell script, run by `sh` in the
 * sources container (a busybox + git image, see images/helper-git) with the script on stdin. It does
 * what the shell executor's git-sources.ts does, with the same job log lines: GIT_STRATEGY (fetch,
 * clone, none, empty), GIT_DEPTH, GIT_CHECKOUT, GIT_CLEAN_FLAGS, the job's refspecs, and first one
 * TCP probe of the clone URL's host (at most COORDINATOR_PROBE_SECONDS), so an unreachable
 * coordinator fails within seconds with a message naming it. The clone URL carries the job token:
 * it travels in the script on stdin, never in argv or the environment.
 */
import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import { variableValue } from '../executor.js';
import { shQuote } from './build-script.js';
import { COORDINATOR_PROBE_SECONDS, probeTarget, unreachableMessage } from './coordinator-forward.js';

const DEFAULT_REFSPECS = ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'];

export interface SourcesScriptInput {
  /** The job's git_info, with the clone URL as the sources container reaches it. */
  gitInfo: JobPayload['git_info'];
  variables: readonly JobVariable[];
  projectDir: string;
  tmpDir: string;
  probeSeconds?: number;
}

/** The script, or the job log's error when the variables ask for something unknown. */
export type SourcesScript = { script: string } | { error: string };

function say(text: string): string {
  return `say ${shQuote(text)}`;
}

function depthOf(input: SourcesScriptInput): number {
  const fromVariable = variableValue(input.variables, 'GIT_DEPTH');
  const parsed = fromVariable === undefined ? NaN : Number.parseInt(fromVariable, 10);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : input.gitInfo.depth;
}

/** One connection to the clone URL's host with busybox's nc, when the image has busybox (http(s) only). */
function probeLines(input: SourcesScriptInput): string[] {
  if (!/^https?:/i.test(input.gitInfo.repo_url)) return [];
  const { origin, host, port } = probeTarget(input.gitInfo.repo_url);
  const seconds = input.probeSeconds ?? COORDINATOR_PROBE_SECONDS;
  const [before = '', after = ''] = unreachableMessage(origin, '\u0000').split('\u0000');
  return [
    'if command -v busybox >/dev/null 2>&1; then',
    `  reason=$(busybox nc -w ${seconds} ${shQuote(host)} ${port} -e true 2>&1 </dev/null) || {`,
    `    reason=\${reason#nc: }; printf '%s%s%s' ${shQuote(before)} "\${reason:-no answer within ${seconds}s}" ${shQuote(after)}`,
    '    exit 1',
    '  }',
    'fi',
  ];
}

function checkoutLines(input: SourcesScriptInput): string[] {
  const { gitInfo, variables } = input;
  if (variableValue(variables, 'GIT_CHECKOUT') === 'false') return [say('Skipping Git checkout')];
  const lines = [
    say(`Checking out ${gitInfo.sha.slice(0, 8)} as detached HEAD (ref is ${gitInfo.ref})...`),
    `git checkout -f -q ${shQuote(gitInfo.sha)} || exit`,
  ];
  const flags = variableValue(variables, 'GIT_CLEAN_FLAGS') ?? '-ffdx';
  if (flags !== 'none') {
    const args = flags.split(/\s+/).filter(Boolean).map(shQuote);
    lines.push(`git clean ${args.join(' ')} || exit`);
  }
  lines.push(say('Skipping Git submodules setup'));
  return lines;
}

function fetchLines(input: SourcesScriptInput): string[] {
  const { gitInfo, projectDir } = input;
  const depth = depthOf(input);
  const url = shQuote(gitInfo.repo_url);
  const refspecs = (gitInfo.refspecs.length > 0 ? gitInfo.refspecs : DEFAULT_REFSPECS).map(shQuote);
  const fetch = ['git fetch origin --no-recurse-submodules --prune --quiet', ...refspecs];
  if (depth > 0) fetch.push('--depth', String(depth));
  return [
    say(depth > 0 ? `Fetching changes with git depth set to ${depth}...` : 'Fetching changes...'),
    `mkdir -p ${shQuote(projectDir)} && cd ${shQuote(projectDir)} || exit`,
    'if [ ! -e .git ]; then',
    "  git -c init.defaultBranch=main init -q || exit; echo 'Created fresh repository.'",
    'fi',
    `git remote set-url origin ${url} >/dev/null 2>&1 || git remote add origin ${url} || exit`,
    `${fetch.join(' ')} || exit`,
    ...checkoutLines(input),
  ];
}

function strategyLines(input: SourcesScriptInput): string[] | null {
  const dir = shQuote(input.projectDir);
  const strategy = variableValue(input.variables, 'GIT_STRATEGY') ?? 'fetch';
  switch (strategy) {
    case 'none':
      return [say('Skipping Git repository setup'), `mkdir -p ${dir}`];
    case 'empty':
      return [
        say('Skipping Git repository setup and creating an empty build directory'),
        `rm -rf ${dir} && mkdir -p ${dir} || exit`,
      ];
    case 'clone':
      return [...probeLines(input), `rm -rf ${dir} || exit`, ...fetchLines(input)];
    case 'fetch':
      return [...probeLines(input), ...fetchLines(input)];
    default:
      return null;
  }
}

/** The whole stdin script: wrapped in `{ ... }` so that no command reads the rest of the script. */
export function sourcesScript(input: SourcesScriptInput): SourcesScript {
  const body = strategyLines(input);
  if (body === null) {
    const strategy = variableValue(input.variables, 'GIT_STRATEGY') ?? '';
    return { error: `ERROR: unknown GIT_STRATEGY "${strategy}"; use fetch, clone, none or empty\n` };
  }
  const tmp = shQuote(input.tmpDir);
  const lines = [
    '{',
    'say() { printf \'\\033[32;1m%s\\033[0;m\\n\' "$1"; }',
    'export GIT_TERMINAL_PROMPT=0 LC_ALL=C',
    `mkdir -p ${tmp} && chmod 700 ${tmp} || exit`,
    ...body,
    'exit 0',
    '}',
    '',
  ];
  return { script: lines.join('\n') };
}
