/**
 * `flotilla run --executor docker` (embedded coordinator on loopback, throwaway runner): jobs run on
 * per-job networks where services answer by alias, the containers reach the coordinator through the
 * forwarder for sources and artifacts, and the run leaves nothing of its runner on the engine.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLI } from '../../helpers/processes.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { dockerEnv } from './harness.js';

const exec = promisify(execFile);

let docker: Docker;
let tmp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  docker = dockerEnv();
  tmp = await tempDir('flotilla-run-docker-');
});

afterAll(async () => {
  await tmp.remove();
});

const PIPELINE = `stages: [build, test]
build:
  stage: build
  image: busybox:latest
  script:
    - mkdir -p out && cat message.txt > out/msg.txt
  artifacts:
    paths: [out/]
services-by-alias:
  stage: test
  image: busybox:latest
  services:
    - name: flotilla-test/web:latest
      alias: web
    - name: flotilla-test/web:latest
      alias: api
  script:
    - cat out/msg.txt
    - wget -qO- http://web/ | sed 's/^/web says /'
    - wget -qO- http://api/ | sed 's/^/api says /'
`;

async function flotillaRun(dir: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      [CLI, 'run', dir, '--no-color', '--executor', 'docker'],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
    );
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

/** Every container, network and volume the run's runner (by its short token) left on the engine. */
async function runnerObjects(shortToken: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`com.flotilla.runner=${shortToken}`] });
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  const { Volumes } = await docker.listVolumes({ filters });
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...(Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}

describe('flotilla run --executor docker', () => {
  it('reaches two services by alias, passes artifacts through the coordinator and leaves nothing behind', async () => {
    const repo = path.join(tmp.dir, 'services');
    await exec('git', ['init', '-q', '-b', 'main', repo]);
    await writeFile(path.join(repo, '.gitlab-ci.yml'), PIPELINE);
    await writeFile(path.join(repo, 'message.txt'), 'fetched-from-the-coordinator\n');
    const { code, out } = await flotillaRun(repo);
    expect(code, out).toBe(0);
    expect(out).toMatch(/Pipeline #\d+ success/);
    expect(out).toContain('web says hello from the web service');
    expect(out).toContain('api says hello from the web service');
    // Sources were fetched by git and the artifact downloaded, both from the coordinator.
    expect(out.match(/fetched-from-the-coordinator/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
    expect(out).toContain('Downloading artifacts from coordinator... ok');
    const shortToken = /Running on flotilla-(\S+?)-project-/.exec(out)?.[1];
    expect(shortToken, out).toBeDefined();
    expect(await runnerObjects(shortToken ?? '')).toEqual([]);
  });
});
