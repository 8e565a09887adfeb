/**
 * What the GitLab client suites share: a real coordinator process and a real shell runner over
 * loopback, the pipeline their projects run, and the checks that the clients are installed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { Fleet, type FleetRunner } from '../../helpers/fleet.js';

const exec = promisify(execFile);

/** Debian's interpreter, which has Debian's python3-gitlab (another python3 may be first on PATH). */
export const PYTHON = '/usr/bin/python3';
/** python-gitlab's CLI as Debian's gitlab-cli package installs it. */
export const PYTHON_GITLAB_CLI = '/usr/bin/python-gitlab';

/**
 * `build` (artifacts, uses DEPLOY_TARGET), a manual `deploy`, and with SLOW=1 only `slow`, a job
 * that runs until it is canceled.
 */
export const CLIENT_CI = `stages: [build, test, deploy]
build:
  stage: build
  rules:
    - if: '$SLOW != "1"'
  script:
    - echo "building for \${DEPLOY_TARGET:-default}"
    - mkdir -p out
    - echo "result for \${DEPLOY_TARGET:-default}" > out/result.txt
  artifacts:
    paths: [out/]
slow:
  stage: test
  rules:
    - if: '$SLOW == "1"'
  script: [sleep 300]
deploy:
  stage: deploy
  rules:
    - if: '$SLOW != "1"'
      when: manual
      allow_failure: true
  script: ['echo "deploying \${DEPLOY_TARGET:-default}"']
`;

export interface ClientsFleet {
  fleet: Fleet;
  runner: FleetRunner;
}

export async function startClientsFleet(): Promise<ClientsFleet> {
  const fleet = await Fleet.start();
  try {
    const runner = await fleet.addRunner({ concurrent: 4 });
    return { fleet, runner };
  } catch (err) {
    await fleet.stop();
    throw err;
  }
}

/** Fails loudly (never skips) when the Python client or its CLI is missing. */
export async function requirePythonGitlab(): Promise<void> {
  try {
    await exec(PYTHON, ['-c', 'import gitlab']);
    await exec(PYTHON_GITLAB_CLI, ['--version']);
  } catch (err) {
    throw new Error(
      `python-gitlab is not installed (${String(err)}): run scripts/test-env.sh, which installs ` +
        "Debian's python3-gitlab and gitlab-cli",
      { cause: err },
    );
  }
}
