/**
 * The CLI loads a command's heavy modules only when that command runs: `flotilla --version`,
 * `flotilla lint` and `flotilla run --help` must not load the coordinator's or the docker
 * executor's packages. The packages a process loads are recorded by a module resolve hook
 * (`module.register`, Node's documented customization hooks) that appends each resolved URL to a
 * file. They run the unbundled build (`dist/cli/main.js`): the bundle that `bin/flotilla.js` prefers
 * hides package names inside its chunks, which split at the same dynamic imports.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLI } from '../helpers/processes.js';
import { tempDir } from '../../harness/temp-dir.js';

const exec = promisify(execFile);

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.FLOTILLA_TEST_LOADED, result.url + '\\n');
  return result;
}
`;

/** `bin/flotilla.js` without the bundle. */
const UNBUNDLED = `import { main } from ${JSON.stringify(pathToFileURL(path.resolve(path.dirname(CLI), '../dist/cli/main.js')).href)};
process.exitCode = await main(process.argv);
`;

const REGISTER = `import { register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url));
`;

/** Packages no command other than coordinator/runner/run/up/fleet needs. */
const HEAVY = ['fastify', 'kysely', 'better-sqlite3', 'pg', 'dockerode', 'pino', 'prom-client'];

let tmp: { dir: string; remove: () => Promise<void> };
let runs = 0;

beforeAll(async () => {
  tmp = await tempDir('flotilla-cli-startup-');
  await writeFile(path.join(tmp.dir, 'hooks.mjs'), HOOKS);
  await writeFile(path.join(tmp.dir, 'register.mjs'), REGISTER);
  await writeFile(path.join(tmp.dir, 'unbundled.mjs'), UNBUNDLED);
  await writeFile(path.join(tmp.dir, '.gitlab-ci.yml'), 'hello:\n  script:\n    - echo hello\n');
});

afterAll(async () => {
  await tmp.remove();
});

/** The npm packages the CLI process loaded for these arguments. */
async function packagesLoaded(args: string[], mayFail = false): Promise<string[]> {
  const loaded = path.join(tmp.dir, `loaded-${++runs}.txt`);
  await writeFile(loaded, '');
  const register = pathToFileURL(path.join(tmp.dir, 'register.mjs')).href;
  await exec(process.execPath, ['--import', register, path.join(tmp.dir, 'unbundled.mjs'), ...args], {
    cwd: tmp.dir,
    env: { ...process.env, FLOTILLA_TEST_LOADED: loaded, NO_COLOR: '1' },
  }).catch((err: unknown) => {
    if (!mayFail) throw err;
  });
  const urls = (await readFile(loaded, 'utf8')).split('\n').filter(Boolean);
  const names = urls.flatMap((url) => {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    return match?.[1] ? [match[1]] : [];
  });
  return [...new Set(names)].sort();
}

describe('CLI startup', () => {
  it.each([[['--version']], [['lint', '.gitlab-ci.yml']], [['run', '--help']]])(
    'flotilla %j loads none of the heavy packages',
    async (args) => {
      const names = await packagesLoaded(args);
      expect(names).toContain('commander');
      expect(names.filter((n) => HEAVY.includes(n))).toEqual([]);
    },
    60_000,
  );

  it('flotilla coordinator --help stays light, and the hook does see heavy packages when they load', async () => {
    expect((await packagesLoaded(['coordinator', '--help'])).filter((n) => HEAVY.includes(n))).toEqual([]);
    // `runner unregister` loads the runner's actions (pino, prom-client) before it finds no entry.
    const config = path.join(tmp.dir, 'config.toml');
    await writeFile(config, 'concurrent = 1\n');
    const names = await packagesLoaded(['runner', 'unregister', '--all-runners', '-c', config], true);
    expect(names.filter((n) => HEAVY.includes(n)).length).toBeGreaterThan(0);
  }, 60_000);
});
