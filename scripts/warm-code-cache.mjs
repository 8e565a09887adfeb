/**
 * Writes the bundle's code cache for `flotilla run` at build time, from a small pipeline that goes
 * through the paths most runs take (two stages, `needs`, artifacts uploaded, downloaded and
 * extracted), instead of leaving it to the first run a user makes. The loader writes the cache
 * only when there is none (or V8 rejects it), so whatever the first run compiled is what every
 * later run deserialises, and code the first run did not reach is compiled again by every run that
 * reaches it: a first run of a one-job pipeline left the artifacts code out (about 80 ms of CPU
 * on each later artifacts pipeline, docs/benchmarks.md §1m).
 *
 *   node scripts/warm-code-cache.mjs LAUNCHER   (a script that runs the bundle's CLI)
 *
 * A failure (no git, say) only warns: the first real run then writes the cache as before.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const PIPELINE = `stages: [build, test]
build:
  stage: build
  script:
    - mkdir -p out && echo built > out/a.txt
  artifacts:
    paths: [out/]
test:
  stage: test
  needs: [build]
  script:
    - test -f out/a.txt
`;

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'flotilla build',
  GIT_AUTHOR_EMAIL: 'build@localhost',
  GIT_COMMITTER_NAME: 'flotilla build',
  GIT_COMMITTER_EMAIL: 'build@localhost',
};

/** Runs the pipeline once through `launcher` (the bundle's loader writes the cache at exit). */
export async function warmCodeCache(launcher) {
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-warm-'));
  try {
    await exec('git', ['init', '-q', '-b', 'main'], { cwd: dir, env: GIT_ENV });
    await writeFile(path.join(dir, '.gitlab-ci.yml'), PIPELINE);
    await exec('git', ['add', '-A'], { cwd: dir, env: GIT_ENV });
    await exec('git', ['commit', '-q', '-m', 'warm the code cache'], { cwd: dir, env: GIT_ENV });
    await exec(
      process.execPath,
      [launcher, 'run', '--no-color', '--executor', 'shell', '--concurrent', '2', dir],
      {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
        timeout: 120_000,
      },
    );
  } catch (err) {
    process.stderr.write(`warning: the code cache for "run" was not written at build time: ${err.message}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const launcher = process.argv[2];
  if (!launcher) {
    process.stderr.write('usage: node scripts/warm-code-cache.mjs LAUNCHER\n');
    process.exit(2);
  }
  await warmCodeCache(path.resolve(launcher));
}
