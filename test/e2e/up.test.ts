/**
 * `flotilla up` as a user starts it: the built CLI (the bundle that `bin/flotilla.js` prefers) on
 * a fresh data dir, then the steps its welcome message prints (create a project, push to it), a
 * graceful stop with SIGQUIT, and a second start on the same data dir.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FlotillaProcess } from '../helpers/processes.js';
import { TestApi } from '../../harness/api-client.js';
import { createWorkRepo, pushTo } from '../../harness/git-repo.js';
import { tempDir } from '../../harness/temp-dir.js';

const READY = /Flotilla is up: coordinator (http:\/\/\S+), runner config (\S+)/;

let tmp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  tmp = await tempDir('flotilla-up-');
});

afterAll(async () => {
  await tmp.remove();
});

function startUp(dataDir: string): FlotillaProcess {
  return new FlotillaProcess(
    ['up', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--concurrent', '2', '--log-format', 'json'],
    { NO_COLOR: '1' },
  );
}

describe('flotilla up', () => {
  it('starts on a fresh data dir, runs a pushed pipeline, stops on SIGQUIT and starts again', async () => {
    const dataDir = path.join(tmp.dir, 'data');
    const first = startUp(dataDir);
    try {
      const [, url = '', configPath = ''] = await first.waitFor(READY);
      expect(await readFile(configPath, 'utf8')).toMatch(/^concurrent = 2$/m);
      const token = (await readFile(path.join(dataDir, 'coordinator', 'root-token'), 'utf8')).trim();
      const api = new TestApi(url, token);
      const project = await api.createProject('demo');
      const repo = await createWorkRepo(path.join(tmp.dir, 'demo'), {
        '.gitlab-ci.yml': 'hello:\n  script:\n    - echo "hello from up"\n',
      });
      await pushTo(repo, url, project.path_with_namespace, token);
      const pipeline = await api.waitForPipeline(project.id);
      const done = await api.waitForPipelineStatus(project.id, pipeline.id, ['success', 'failed']);
      expect(done.status, first.output.slice(-2000)).toBe('success');
      first.signal('SIGQUIT');
      expect(await first.exited, first.output.slice(-2000)).toBe(0);
    } finally {
      await first.stop();
    }

    const second = startUp(dataDir);
    try {
      await second.waitFor(READY);
      expect(second.output).not.toContain('Root access token (shown once)');
    } finally {
      await second.stop();
    }
  });
});
