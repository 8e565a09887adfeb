/**
 * The unmodified python-gitlab library (Debian's python3-gitlab) against a real coordinator and
 * runner: one run of python_gitlab_suite.py per area; each checks the returned objects.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CLIENT_CI,
  PYTHON,
  requirePythonGitlab,
  startClientsFleet,
  type ClientsFleet,
} from './clients-fleet.js';

const exec = promisify(execFile);
const SUITE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python_gitlab_suite.py');
let f: ClientsFleet;

beforeAll(async () => {
  await requirePythonGitlab();
  f = await startClientsFleet();
});

afterAll(async () => {
  await f?.fleet.stop();
});

async function run(scenario: string): Promise<string> {
  try {
    const { stdout } = await exec(PYTHON, [SUITE, scenario], {
      env: {
        ...process.env,
        FLOTILLA_URL: f.fleet.coordinator.url,
        FLOTILLA_TOKEN: f.fleet.api.token,
        FLOTILLA_CI_YAML: CLIENT_CI,
        FLOTILLA_RUNNER_ID: String(f.runner.id),
      },
      timeout: 150_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(
      `python-gitlab ${scenario} failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${f.fleet.output()}`,
      {
        cause: err,
      },
    );
  }
}

describe('python-gitlab (library)', () => {
  for (const scenario of [
    'users_version',
    'projects',
    'repository',
    'variables',
    'pipelines',
    'cancel_retry',
    'runners',
    'lint',
  ]) {
    it(scenario, async () => {
      expect(await run(scenario)).toContain(`scenario ${scenario} passed`);
    });
  }
});
