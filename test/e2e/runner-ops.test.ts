/**
 * End to end: runner operations. SIGQUIT drains running jobs and takes no new ones; config.toml
 * changes apply to new jobs while a bad file is rejected; lost trace bytes are resent after a 416.
 */
import { readFile, writeFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startDroppingProxy, type DroppingProxy } from '../helpers/dropping-proxy.js';
import { Fleet } from '../helpers/fleet.js';
import { runnerConfigToml } from '../helpers/processes.js';

let fleet: Fleet;
let proxy: DroppingProxy | undefined;

beforeAll(async () => {
  fleet = await Fleet.start();
});

afterAll(async () => {
  await proxy?.close();
  await fleet?.stop();
});

describe('runner operations', () => {
  it('SIGQUIT lets the running job finish, takes no new job, and exits 0', async () => {
    const runner = await fleet.addRunner({ tags: ['drain'], concurrent: 2 });
    const first = await fleet.pushPipeline({
      '.gitlab-ci.yml': 'work:\n  tags: [drain]\n  script: [echo begin, sleep 4, echo drained-ok]\n',
    });
    const job = await fleet.waitForJob(first.projectId, first.pipelineId, 'work', ['running']);
    await fleet.api.until(
      async () => (await fleet.trace(first.projectId, job.id)).includes('begin'),
      'the job to start its script',
    );
    runner.proc.signal('SIGQUIT');
    await runner.proc.waitFor(/stopping gracefully/);
    const second = await fleet.pushPipeline({
      '.gitlab-ci.yml': 'later:\n  tags: [drain]\n  script: [echo later]\n',
    });
    const code = await runner.proc.exited;
    expect(code, fleet.output()).toBe(0);
    const done = await fleet.jobByName(first.projectId, first.pipelineId, 'work');
    expect(done.status, runner.proc.output).toBe('success');
    expect(await fleet.trace(first.projectId, done.id)).toContain('drained-ok');
    const later = await fleet.jobByName(second.projectId, second.pipelineId, 'later');
    expect(later.status).toBe('pending');
  });

  it('applies a changed config.toml to new jobs and keeps the old one when the file is invalid', async () => {
    const runner = await fleet.addRunner({ tags: ['reload'], concurrent: 1 });
    const job = 'show:\n  tags: [reload]\n  script: [echo "RELOADED=$RELOADED"]\n';
    await writeFile(
      runner.configPath,
      runnerConfigToml({ ...runner.options, extraRunner: '  environment = ["RELOADED=yes"]' }),
    );
    await runner.proc.waitFor(/config reloaded/);
    const a = await fleet.pushPipeline({ '.gitlab-ci.yml': job });
    await fleet.api.waitForPipelineStatus(a.projectId, a.pipelineId, ['success', 'failed']);
    const shown = await fleet.jobByName(a.projectId, a.pipelineId, 'show');
    expect(await fleet.trace(a.projectId, shown.id), fleet.output()).toContain('RELOADED=yes');

    const good = await readFile(runner.configPath, 'utf8');
    await writeFile(runner.configPath, good.replace('concurrent = 1', 'concurrent = "many"'));
    await runner.proc.waitFor(/config reload rejected/);
    expect(runner.proc.output).toMatch(/concurrent/);
    const b = await fleet.pushPipeline({ '.gitlab-ci.yml': job });
    const pipeline = await fleet.api.waitForPipelineStatus(b.projectId, b.pipelineId, ['success', 'failed']);
    expect(pipeline.status).toBe('success');
    const again = await fleet.jobByName(b.projectId, b.pipelineId, 'show');
    expect(await fleet.trace(b.projectId, again.id)).toContain('RELOADED=yes');
  });

  it('resends trace bytes the coordinator never stored after a 416', async () => {
    proxy = await startDroppingProxy(fleet.coordinator.url);
    await fleet.addRunner({ tags: ['proxied'], concurrent: 1, url: proxy.url });
    const { projectId, pipelineId } = await fleet.pushPipeline({
      '.gitlab-ci.yml':
        'talk:\n  tags: [proxied]\n  script: [echo line-one, sleep 2, echo line-two, sleep 2, echo line-three]\n',
    });
    const pipeline = await fleet.api.waitForPipelineStatus(projectId, pipelineId, ['success', 'failed']);
    expect(pipeline.status, fleet.output()).toBe('success');
    expect(proxy.dropped).toBe(1);
    const job = await fleet.jobByName(projectId, pipelineId, 'talk');
    const log = await fleet.trace(projectId, job.id);
    expect(log).toContain('Running with flotilla');
    const order = ['line-one', 'line-two', 'line-three', 'Job succeeded'].map((s) => log.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expect(log.split('line-two').length).toBe(3);
  });
});
