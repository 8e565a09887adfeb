/** Chooses the files of one `artifacts:` entry: `paths` globs (+ untracked files) minus `exclude`. */
import { spawn } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { globToRegExp, matchesAny } from './glob.js';

export interface ArtifactSelection {
  paths: readonly string[];
  exclude: readonly string[];
  untracked: boolean;
}

async function walk(root: string, rel = ''): Promise<string[]> {
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (path === '.git') continue;
    if (entry.isDirectory()) files.push(...(await walk(root, path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/** Files git does not track (ignored ones included, as gitlab-runner's `untracked: true`). */
function untrackedFiles(root: string): Promise<string[]> {
  return new Promise((resolve) => {
    const child = spawn('git', ['ls-files', '--others', '-z'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', () => resolve([]));
    child.on('close', (code) =>
      resolve(code === 0 ? Buffer.concat(chunks).toString('utf8').split('\0').filter(Boolean) : []),
    );
  });
}

/** Relative `/`-separated paths of regular files to archive, sorted. */
export async function collectArtifactFiles(root: string, selection: ArtifactSelection): Promise<string[]> {
  const include = selection.paths.map(globToRegExp);
  const exclude = selection.exclude.map(globToRegExp);
  const chosen = new Set<string>();
  if (include.length > 0) {
    for (const file of await walk(root)) if (matchesAny(file, include)) chosen.add(file);
  }
  if (selection.untracked) {
    for (const file of await untrackedFiles(root)) {
      if ((await lstat(join(root, file))).isFile()) chosen.add(file);
    }
  }
  return [...chosen].filter((f) => !matchesAny(f, exclude)).sort();
}
