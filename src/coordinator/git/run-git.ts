import { execFile } from 'node:child_process';
import { FlotillaError } from '../../shared/errors.js';

export interface GitRunnerOptions {
  gitBinary: string;
  /** Kill a plain git command after this long. */
  timeoutMs: number;
}

export interface RunGitOptions {
  /** Written to the command's stdin. */
  input?: string | Buffer;
  /** Upper bound of stdout; the command fails beyond it. Default 16 MiB. */
  maxBuffer?: number;
  /** Exit codes that are answers rather than failures (e.g. 1 for "no such ref"). */
  okExitCodes?: readonly number[];
  /** Extra environment, e.g. GIT_INDEX_FILE or commit identities for plumbing writes. */
  env?: Record<string, string>;
}

export interface GitResult {
  stdout: Buffer;
  exitCode: number;
}

const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;
const STDERR_IN_ERROR = 2000;

/**
 * The environment of every git process: nothing inherited that could point git at another
 * repository (GIT_DIR, GIT_INDEX_FILE…) and never an interactive prompt.
 */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...extra };
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT'] as const) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * Runs `git --git-dir=<gitDir> <args>` (argument array, no shell) and resolves with its stdout.
 * Throws FLO_ERR_GIT when git cannot start, times out, overflows `maxBuffer` or exits with a code
 * not in `okExitCodes`.
 */
export function runGit(
  runner: GitRunnerOptions,
  gitDir: string | null,
  args: readonly string[],
  options: RunGitOptions = {},
): Promise<GitResult> {
  const fullArgs = gitDir === null ? [...args] : [`--git-dir=${gitDir}`, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      runner.gitBinary,
      fullArgs,
      {
        env: gitEnv(options.env),
        encoding: 'buffer',
        timeout: runner.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        const exitCode = exitCodeOf(error);
        if (exitCode !== null && (exitCode === 0 || options.okExitCodes?.includes(exitCode))) {
          resolve({ stdout, exitCode });
          return;
        }
        reject(gitFailure(args, error, stderr));
      },
    );
    child.stdin?.on('error', () => undefined);
    if (options.input === undefined) child.stdin?.end();
    else child.stdin?.end(options.input);
  });
}

/** 0 on success, the exit code of a normal exit, or null when git never ran or was killed. */
function exitCodeOf(error: Error | null): number | null {
  if (error === null) return 0;
  const code = (error as { code?: unknown }).code;
  const killed = (error as { killed?: boolean }).killed === true;
  return typeof code === 'number' && !killed ? code : null;
}

function gitFailure(args: readonly string[], error: Error | null, stderr: Buffer): FlotillaError {
  const command = args[0] ?? '';
  const detail = stderr.toString('utf8').trim().slice(0, STDERR_IN_ERROR);
  return new FlotillaError('FLO_ERR_GIT', `git ${command} failed${detail ? `: ${detail}` : ''}`, {
    cause: error,
    details: { command },
  });
}
