/**
 * A coordinator that the job's containers cannot reach fails the job at `get_sources` within
 * seconds, with a message naming the URL and what to configure (not git's error after the kernel's
 * two-minute connect timeout). Port 1 on loopback: nothing listens there.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { dockerEnv, dockerFactory, dockerPayload, runDockerJob } from './harness.js';

const DEAD = 'http://127.0.0.1:1';

beforeAll(() => {
  dockerEnv();
});

function fetchingPayload() {
  const payload = dockerPayload(['echo must not run'], {}, {});
  payload.variables = payload.variables.filter((v) => v.key !== 'GIT_STRATEGY');
  payload.git_info = { ...payload.git_info, repo_url: `${DEAD}/root/p.git` };
  return payload;
}

describe('docker executor: an unreachable coordinator', () => {
  it('warns in prepare and fails get_sources, naming the URL and the keys to set (forwarded)', async () => {
    const run = await runDockerJob(dockerFactory({ pull_policy: 'if-not-present' }), fetchingPayload(), {
      url: DEAD,
    });
    expect(run.outcome.state, run.log).toBe('failed');
    expect(run.log).toContain(`WARNING: the coordinator ${DEAD} is unreachable from the runner`);
    expect(run.log).toContain('[[runners]] url');
    expect(run.log).toContain(`ERROR: the coordinator ${DEAD} is unreachable from the job's network`);
    expect(run.log).not.toContain('must not run');
  });

  it('fails get_sources with what to configure when the job network has no route (not forwarded)', async () => {
    const factory = dockerFactory({ pull_policy: 'if-not-present', coordinator_forwarding: 'never' });
    const run = await runDockerJob(factory, fetchingPayload(), { url: DEAD });
    expect(run.outcome.state, run.log).toBe('failed');
    expect(run.log).toContain(`ERROR: the coordinator ${DEAD} is unreachable from the job's network`);
    expect(run.log).toContain('coordinator_forwarding = "always"');
    expect(run.log).not.toContain('Forwarding the coordinator');
    expect(run.log).not.toContain('must not run');
  });
});
