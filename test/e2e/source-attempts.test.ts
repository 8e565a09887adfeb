/**
 * GET_SOURCES_ATTEMPTS with real processes: the coordinator's git endpoint is reached through a
 * TCP proxy (the coordinator's external URL, so the job's repo_url points at it) that drops the
 * next connections, as a flaky network or a load balancer would. With GET_SOURCES_ATTEMPTS=3 the
 * job fetches again and succeeds; with the default (1) it fails with git's error in its log; an
 * invalid value fails the job with a line naming the variable and the range.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestApi } from '../../harness/api-client.js';
import { stripLogTimestamps } from '../../src/shared/log-timestamps.js';
import { Fleet } from '../helpers/fleet.js';
import { startFlakyProxy, type FlakyProxy } from '../helpers/flaky-proxy.js';
import { freePort } from '../helpers/free-port.js';

let fleet: Fleet;
let proxy: FlakyProxy;

beforeAll(async () => {
  const port = await freePort();
  proxy = await startFlakyProxy({ host: '127.0.0.1', port });
  fleet = await Fleet.start(['--listen', `127.0.0.1:${port}`, '--external-url', proxy.url]);
  // the test, the pushes and the runner talk to the coordinator directly; only git goes through
  // the proxy (the job's repo_url is made from the external URL)
  const direct = `http://127.0.0.1:${port}`;
  Object.assign(fleet.coordinator, { url: direct, api: new TestApi(direct, fleet.api.token) });
  await fleet.addRunner({ tags: ['flaky-git'], concurrent: 1 });
});

afterAll(async () => {
  await fleet?.stop();
  await proxy?.close();
});

function pipeline(variables: Record<string, string>): Record<string, string> {
  const vars = Object.entries(variables)
    .map(([k, v]) => `    ${k}: "${v}"`)
    .join('\n');
  return {
    'hello.txt': 'fetched-through-the-flaky-proxy\n',
    '.gitlab-ci.yml': `
fetch:
  tags: [flaky-git]
${vars ? `  variables:\n${vars}\n` : ''}  script: [cat hello.txt]
`,
  };
}

async function runWithDrops(variables: Record<string, string>, drops: number) {
  const before = proxy.dropped;
  proxy.drop(drops);
  const { projectId, pipelineId } = await fleet.pushPipeline(pipeline(variables));
  const job = await fleet.waitForJob(projectId, pipelineId, 'fetch', ['success', 'failed', 'canceled']);
  // the log as the job printed it (the runner's FF_TIMESTAMPS line headers taken off)
  const log = stripLogTimestamps(await fleet.trace(projectId, job.id));
  return { job, log, dropped: proxy.dropped - before };
}

describe('GET_SOURCES_ATTEMPTS through a flaky git endpoint', () => {
  it('fetches again after dropped connections and succeeds with GET_SOURCES_ATTEMPTS=3', async () => {
    const { job, log, dropped } = await runWithDrops({ GET_SOURCES_ATTEMPTS: '3' }, 2);
    expect(job.status, `${log}\n${fleet.output()}`).toBe('success');
    expect(dropped).toBe(2);
    expect(log).toContain('Getting source from Git repository failed (attempt 1 of 3): exit code 128');
    expect(log).toContain('Retrying get_sources (attempt 2 of 3)...');
    expect(log).toContain('Retrying get_sources (attempt 3 of 3)...');
    expect(log).not.toContain('attempt 3 of 3): exit code');
    expect(log).toMatch(/^fetched-through-the-flaky-proxy$/m);
    expect(log).toContain('Job succeeded');
  });

  it('fails with git’s error and no retry with the default of one attempt', async () => {
    const { job, log, dropped } = await runWithDrops({}, 1);
    expect(job.status, log).toBe('failed');
    expect(job.failure_reason).toBe('script_failure');
    expect(dropped).toBe(1);
    // the proxy closes the connection unanswered: git reports an empty reply or a reset
    expect(log).toMatch(
      /fatal: unable to access '[^']*': (Empty reply from server|Recv failure: Connection reset)/,
    );
    expect(log).not.toContain('Retrying');
    expect(log).toContain('ERROR: Job failed: exit code 128');
    expect(log).not.toContain('fetched-through-the-flaky-proxy');
  });

  it('fails a job whose GET_SOURCES_ATTEMPTS is out of range, naming the variable and the range', async () => {
    const { job, log } = await runWithDrops({ GET_SOURCES_ATTEMPTS: '11' }, 0);
    expect(job.status, log).toBe('failed');
    expect(log).toContain(
      'ERROR: Job failed: GET_SOURCES_ATTEMPTS is "11": the number of attempts must be a whole number in the range [1, 10]',
    );
    expect(log).not.toContain('Getting source from Git repository');
  });
});
