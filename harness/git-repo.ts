import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test User',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test User',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_TERMINAL_PROMPT: '0',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: GIT_ENV });
  return stdout.trim();
}

/** Creates a working repository with the given files committed on `branch`. */
export async function createWorkRepo(
  dir: string,
  files: Record<string, string>,
  branch = 'main',
): Promise<string> {
  await mkdir(dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', branch);
  await commitFiles(dir, files, 'initial commit');
  return dir;
}

export async function commitFiles(
  dir: string,
  files: Record<string, string>,
  message: string,
): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

/** Pushes `ref` to the coordinator with the access token as the basic-auth password. */
export async function pushTo(
  dir: string,
  baseUrl: string,
  projectPath: string,
  token: string,
  ref = 'main',
): Promise<void> {
  const url = new URL(`${baseUrl}/${projectPath}.git`);
  url.username = 'root';
  url.password = token;
  await git(dir, 'push', '-q', url.toString(), ref);
}
