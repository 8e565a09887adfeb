/**
 * Decides what `flotilla run DIR` pushes: the top of a git work tree is snapshotted in place
 * (uncommitted changes included, nothing of the user's touched); any other directory (not a
 * repository, or a folder inside one) is copied into a throwaway repository first, honouring the
 * enclosing repository's ignore rules.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import { FlotillaError } from '../../shared/errors.js';
import { inspectSource, snapshotWorkTree, type Snapshot } from './snapshot.js';

const exec = promisify(execFile);

export interface PreparedSource {
  /** The repository to push from. */
  repoDir: string;
  snapshot: Snapshot;
  /** Name for the project on the coordinator. */
  projectName: string;
}

async function trackedAndUntracked(dir: string): Promise<string[]> {
  const { stdout } = await exec('git', ['ls-files', '-co', '--exclude-standard', '-z', '.'], {
    cwd: dir,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.split('\0').filter((f) => f.length > 0);
}

async function copyInto(dir: string, target: string, insideRepo: boolean): Promise<void> {
  if (!insideRepo) {
    await cp(dir, target, { recursive: true, filter: (src) => path.basename(src) !== '.git' });
    return;
  }
  for (const file of await trackedAndUntracked(dir)) {
    const from = path.join(dir, file);
    const info = await stat(from).catch(() => null);
    if (!info?.isFile()) continue;
    await mkdir(path.dirname(path.join(target, file)), { recursive: true });
    await cp(from, path.join(target, file), { preserveTimestamps: true });
  }
}

/**
 * The directory to run, as a real path: it must exist and hold a `.gitlab-ci.yml` (checked before
 * any service starts, so a mistyped path ends with this error alone).
 */
export async function sourceDirectory(dirInput: string): Promise<string> {
  const dir = await realpath(path.resolve(dirInput)).catch(() => {
    throw new FlotillaError('FLO_ERR_CONFIG_INVALID', `directory ${dirInput} does not exist`);
  });
  const hasCi = await stat(path.join(dir, '.gitlab-ci.yml')).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!hasCi) {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `${dir} has no .gitlab-ci.yml; create one there or pass the directory that has it`,
    );
  }
  return dir;
}

/** What to push for `dir` (a `sourceDirectory` answer). */
export async function prepareSource(dir: string, scratchDir: string): Promise<PreparedSource> {
  const projectName = path.basename(dir);
  // One process finds the work tree's top and, when it is this directory, takes the snapshot.
  const inspected = await inspectSource(dir);
  if (inspected.kind === 'top') return { repoDir: dir, snapshot: inspected.snapshot, projectName };
  const repoDir = path.join(scratchDir, 'source');
  await mkdir(repoDir, { recursive: true });
  await copyInto(dir, repoDir, inspected.kind === 'outside');
  await exec('git', ['init', '-q', '-b', 'main'], { cwd: repoDir });
  return { repoDir, snapshot: await snapshotWorkTree(repoDir), projectName };
}
