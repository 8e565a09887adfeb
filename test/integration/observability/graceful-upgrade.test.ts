/**
 * The upgrade runbook (docs/operations.md), end to end with real processes: a running job
 * survives `flotilla runner stop --graceful` (SIGQUIT: the old manager stops taking jobs and waits
 * for it), a new manager started meanwhile with the same config.toml takes the next job, and the
 * old one exits cleanly once its job finishes. The long job waits for a file the test writes, so
 * nothing depends on timing.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Fleet } from '../../helpers/fleet.js';
import { FlotillaProcess, runnerConfigToml } from '../../helpers/processes.js';

describe('graceful upgrade of a runner manager', () => {
  let fleet: Fleet;
  const procs: FlotillaProcess[] = [];

  beforeAll(async () => {
    fleet = await Fleet.start(['--long-poll-seconds', '1']);
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await fleet?.stop();
  });

  function startManager(configPath: string, pidFile: string): FlotillaProcess {
    const proc = new FlotillaProcess(['runner', 'run', '--config', configPath, '--pid-file', pidFile]);
    procs.push(proc);
    return proc;
  }

  it('lets the running job finish, and the new manager takes the next job', async () => {
    const created = await fleet.api.createRunner({ description: 'upgraded' });
    const configPath = path.join(fleet.dir, 'upgrade-config.toml');
    const release = path.join(fleet.dir, 'release-long-job');
    await writeFile(
      configPath,
      runnerConfigToml({
        url: fleet.coordinator.url,
        token: created.token,
        buildsDir: path.join(fleet.dir, 'upgrade-builds'),
        listenAddress: '127.0.0.1:0',
      }),
    );
    const oldPid = path.join(fleet.dir, 'old.pid');
    const old = startManager(configPath, oldPid);
    await old.waitFor(/runner manager started/);

    const first = await fleet.pushPipeline({
      '.gitlab-ci.yml': `long:\n  script:\n    - echo started\n    - while [ ! -f ${release} ]; do sleep 0.2; done\n    - echo survived the upgrade\n`,
    });
    const long = await fleet.waitForJob(first.projectId, first.pipelineId, 'long', ['running']);
    await fleet.api.until(
      async () => ((await fleet.trace(first.projectId, long.id)).includes('started') ? true : undefined),
      'the long job to start',
    );

    const stop = new FlotillaProcess(['runner', 'stop', '--graceful', '--pid-file', oldPid]);
    procs.push(stop);
    await old.waitFor(/stopping gracefully/);
    await fleet.api.until(
      async () => ((await fetch(`${statusUrl(old)}/-/ready`)).status === 503 ? true : undefined),
      'the old manager to report not ready',
    );

    const fresh = startManager(configPath, path.join(fleet.dir, 'new.pid'));
    await fresh.waitFor(/runner manager started/);
    const second = await fleet.pushPipeline({
      '.gitlab-ci.yml': 'next:\n  script: [echo taken by the new manager]\n',
    });
    const next = await fleet.waitForJob(second.projectId, second.pipelineId, 'next', ['success']);
    expect(fresh.output).toContain(`"jobId":${next.id}`);
    expect(old.output).not.toContain(`"jobId":${next.id}`);
    expect((await fleet.jobByName(first.projectId, first.pipelineId, 'long')).status).toBe('running');
    expect(old.child.exitCode).toBeNull();

    await writeFile(release, '');
    const done = await fleet.waitForJob(first.projectId, first.pipelineId, 'long', ['success', 'failed']);
    expect(done.status, fleet.output()).toBe('success');
    expect(await fleet.trace(first.projectId, long.id)).toContain('survived the upgrade');
    expect(await old.exited).toBe(0);
    expect(await stop.exited).toBe(0);
    expect(stop.output).toMatch(/Runner \d+ stopped/);
  });
});

/** The status server address the manager logged (`listen_address = "127.0.0.1:0"`). */
function statusUrl(proc: FlotillaProcess): string {
  const m = /"address":"([^"]+)"[^\n]*status server listening/.exec(proc.output);
  if (!m?.[1]) throw new Error(`no status server address in:\n${proc.output.slice(-2000)}`);
  return `http://${m[1]}`;
}
