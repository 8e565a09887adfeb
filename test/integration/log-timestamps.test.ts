/**
 * Job log timestamps end to end, in process: a real coordinator (SQLite) and a real runner manager
 * (shell executor) over loopback. The runner stamps every line (FF_TIMESTAMPS, here a job variable) after
 * masking, so a masked variable printed in two writes never reaches the coordinator; the
 * coordinator stores and serves the bytes as sent (GitLab's raw log keeps the headers), reads
 * coverage without them, and the CLI's follower prints the lines without them. A job with
 * the default (FF_TIMESTAMPS off) gets a plain log.
 */
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestCoordinator, type TestCoordinator } from '../../harness/in-process-coordinator.js';
import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { tempDir } from '../../harness/temp-dir.js';
import { JobLogCursor } from '../../src/cli/run/log-stream.js';
import { parseStampedLine, stripLogTimestamps } from '../../src/shared/log-timestamps.js';
import { startTestManager, type TestManager } from './observability/helpers.js';

const SECRET = 'hunter2-s3cr3t-value';

let coordinator: TestCoordinator;
let manager: TestManager;
let tmp: { dir: string; remove(): Promise<void> };

beforeAll(async () => {
  coordinator = await startTestCoordinator();
  tmp = await tempDir('flotilla-logts-');
  const { token } = await coordinator.api.createRunner({ description: 'stamps' });
  manager = await startTestManager({
    url: coordinator.running.url,
    token,
    name: 'stamps',
    buildsDir: path.join(tmp.dir, 'builds'),
  });
});

afterAll(async () => {
  await manager?.stop();
  await coordinator?.stop();
  await tmp?.remove();
});

const CI = `
variables:
  GIT_STRATEGY: none
stamped:
  variables:
    FF_TIMESTAMPS: "true"
  coverage: '/^Coverage: \\d+%$/'
  script:
    - 'echo "Coverage: 73%"'
    - printf 'pw=%s' "\${SECRET:0:7}"; sleep 0.5; printf '%s\\n' "\${SECRET:7}"
    - printf 'progress 10%%\\r'; sleep 0.5; printf 'progress 20%%\\r'; sleep 0.5; echo done
    - echo "to stderr" >&2
plain:
  script:
    - echo plain-line
`;

async function runPipeline(): Promise<{ projectId: number; jobs: Record<string, any> }> {
  const { api } = coordinator;
  const project = await api.createProject(`stamps-${Date.now().toString(36)}`);
  const variable = await api.post(`/projects/${project.id}/variables`, {
    key: 'SECRET',
    value: SECRET,
    masked: true,
  });
  expect(variable.status, variable.text).toBe(201);
  const work = path.join(tmp.dir, 'work');
  await createWorkRepo(work, { '.gitlab-ci.yml': CI });
  await pushTo(work, coordinator.running.url, project.path_with_namespace, api.token);
  const pipeline = await api.waitForPipeline(project.id);
  const done = await api.waitForPipelineStatus(project.id, pipeline.id, ['success', 'failed']);
  const jobs: Record<string, any> = Object.fromEntries(
    (await api.jobs(project.id, pipeline.id)).map((j) => [j.name, j]),
  );
  const logs = await Promise.all(Object.values(jobs).map((j) => rawTrace(project.id, j.id)));
  expect(done.status, `${JSON.stringify(done)}\n${logs.join('\n----\n')}`).toBe('success');
  return { projectId: project.id, jobs };
}

async function rawTrace(projectId: number, jobId: number): Promise<string> {
  return (await coordinator.api.get(`/projects/${projectId}/jobs/${jobId}/trace`)).text;
}

describe('job log timestamps, runner to coordinator', () => {
  let projectId: number;
  let jobs: Record<string, any>;
  beforeAll(async () => {
    ({ projectId, jobs } = await runPipeline());
  });

  it('stores every line with the runner header, the masked value never, continuations joined', async () => {
    const raw = await rawTrace(projectId, jobs['stamped'].id);
    const lines = raw.split('\n').filter((l) => l.length > 0);
    const parsed = lines.map(parseStampedLine);
    expect(parsed.every((p) => p !== null && p.streamId === 0 && p.type === 'O')).toBe(true);
    expect(raw).not.toContain('hunter2');
    expect(raw).not.toContain('s3cr3t');
    // writes ending in \r (progress, section ends) were sent at once, the next marked as continuing them
    const continued = parsed.filter((p) => p?.append).map((p) => p?.content);
    expect(continued).toContain('progress 20%\r');
    expect(continued).toContain('done');
    // every stage but the first opens right after the previous one's section_end (a \r write)
    const starts = parsed.filter((p) => p?.content.startsWith('section_start:'));
    expect(starts.length).toBeGreaterThan(2);
    expect(starts.filter((p) => p?.append)).toHaveLength(starts.length - 1);
    const text = stripLogTimestamps(raw);
    expect(text).toContain('\npw=[MASKED]\n');
    expect(text).toContain('\nprogress 10%\rprogress 20%\rdone\n');
    expect(text).toContain('\nto stderr\n');
    expect(text).toMatch(/^Running with flotilla /);
    // times never go backwards along the log
    const times = parsed.map((p) => p?.time ?? '');
    expect([...times].sort()).toEqual(times);
  });

  it('reads coverage from the line without its header', () => {
    expect(jobs['stamped'].coverage).toBe(73);
  });

  it("gives the CLI follower the job's lines without headers", async () => {
    const cursor = new JobLogCursor();
    const lines = [
      ...cursor.advance(Buffer.from(await rawTrace(projectId, jobs['stamped'].id))),
      ...cursor.flush(),
    ];
    expect(lines).toContain('pw=[MASKED]');
    expect(lines).toContain('Coverage: 73%');
    expect(lines.some((l) => parseStampedLine(`${l.slice(0, 32)}`) !== null)).toBe(false);
  });

  it('writes a plain log by default, with no feature flag line in its header', async () => {
    const raw = await rawTrace(projectId, jobs['plain'].id);
    expect(raw).not.toContain('feature flags:');
    expect(raw).toContain('\nplain-line\n');
    expect(raw.split('\n').some((l) => parseStampedLine(l) !== null)).toBe(false);
  });
});
