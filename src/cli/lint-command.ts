/** `flotilla lint [FILE]`: validates a .gitlab-ci.yml locally and prints every error with its position. */
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import type { Command } from 'commander';

import type { LintResult } from '../pipeline/lint.js';
import type { PipelineContext } from '../pipeline/types.js';
import { FlotillaError } from '../shared/errors.js';
import { say, warn } from './output.js';

const exec = promisify(execFile);
const ZERO = '0000000000000000000000000000000000000000';

async function gitOut(cwd: string, args: string[]): Promise<string | null> {
  try {
    return (await exec('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
  } catch {
    return null;
  }
}

async function walk(root: string, dir = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true })) {
    if (entry.name === '.git' || entry.name === 'node_modules') continue;
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await walk(root, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** A pipeline context for a local checkout: branch, HEAD, files from disk. */
export async function localContext(root: string, source = 'push'): Promise<PipelineContext> {
  const ref = (await gitOut(root, ['symbolic-ref', '--quiet', '--short', 'HEAD'])) || 'main';
  const sha = (await gitOut(root, ['rev-parse', 'HEAD'])) || ZERO;
  const project = path.basename(root);
  const variables: Record<string, string> = {
    CI: 'true',
    GITLAB_CI: 'true',
    CI_COMMIT_BRANCH: ref,
    CI_COMMIT_REF_NAME: ref,
    CI_COMMIT_SHA: sha,
    CI_DEFAULT_BRANCH: ref,
    CI_PIPELINE_SOURCE: source,
    CI_PROJECT_NAME: project,
    CI_PROJECT_PATH: `local/${project}`,
    CI_PROJECT_NAMESPACE: 'local',
  };
  const tracked = await gitOut(root, ['ls-files', '-co', '--exclude-standard']);
  return {
    ref,
    sha,
    beforeSha: ZERO,
    tag: false,
    source,
    defaultBranch: ref,
    projectPath: `local/${project}`,
    variables,
    readFile: (p) => readFile(path.join(root, p), 'utf8').catch(() => null),
    listFiles: async () => (tracked !== null ? tracked.split('\n').filter(Boolean) : walk(root)),
  };
}

function printResult(file: string, result: LintResult, json: boolean): void {
  if (json) {
    say(
      JSON.stringify(
        {
          valid: result.valid,
          errors: result.errors,
          warnings: result.warnings,
          merged_yaml: result.mergedYaml,
          jobs: result.jobs,
        },
        null,
        2,
      ),
    );
    return;
  }
  for (const error of result.errors) warn(`error: ${error}`);
  for (const w of result.warnings) warn(`warning: ${w}`);
  if (result.valid) {
    const stages = new Set(result.jobs.map((j) => j.stage));
    say(
      `${file} is valid: ${result.jobs.length} job(s) in ${stages.size} stage(s)${result.filtered ? ' (no pipeline would be created for this branch)' : ''}`,
    );
  } else {
    warn(`${file} is invalid: ${result.errors.length} error(s)`);
  }
}

interface LintFlags {
  json?: boolean;
  projectDir?: string;
}

async function lint(fileArg: string | undefined, flags: LintFlags): Promise<void> {
  const file = path.resolve(fileArg ?? '.gitlab-ci.yml');
  const text = await readFile(file, 'utf8').catch(() => {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `cannot read ${file}; pass the path of a .gitlab-ci.yml`,
    );
  });
  // `include:local` paths are relative to the project's root: the file's folder unless told otherwise.
  const root = path.resolve(flags.projectDir ?? path.dirname(file));
  const context = await localContext(root);
  // The pipeline engine is loaded only when this command runs, so that other commands start faster.
  const { lintPipeline } = await import('../pipeline/lint.js');
  const result = await lintPipeline(text, context, {
    fileName: path.relative(root, file) || path.basename(file),
  });
  printResult(path.relative(process.cwd(), file) || file, result, flags.json === true);
  if (!result.valid) process.exitCode = 1;
}

export function registerLintCommand(program: Command): void {
  program
    .command('lint')
    .description('Validate a .gitlab-ci.yml and print every error with file:line:column; exit 1 when invalid')
    .argument('[file]', 'the file to check', '.gitlab-ci.yml')
    .option('--json', 'print the result as the CI lint API does')
    .option('--project-dir <dir>', "the project's root, for include:local (default: the file's folder)")
    .action((file: string | undefined, flags: LintFlags) => lint(file, flags));
}
