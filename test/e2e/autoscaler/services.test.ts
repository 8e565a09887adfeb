/**
 * docker-autoscaler on `local` machines (engines without NAT): per-job networks with services by
 * alias, the coordinator (a stand-in on the host side of the machines' subnet) reached through the
 * per-job forwarder for sources and artifacts, and two jobs on one machine that cannot reach each
 * other's networks. Removing the machine leaves no namespace or host interface behind.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { JobImage, JobPayload } from '../../../src/api/runner-api.js';
import { startArtifactServer, type ArtifactServer } from '../docker/artifact-server.js';
import { dockerPayload, runDockerJob, VERSION } from '../docker/harness.js';
import {
  destroyGroup,
  eventually,
  hostAddress,
  namespaces,
  requireTools,
  startTestFleet,
  type TestFleet,
} from './harness.js';

const GROUP = 'e2esvc';
let t: TestFleet;
let server: ArtifactServer;
let repoDir: string;
let sha: string;

function git(cwd: string, ...args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e' };
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...env, GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
  }).trim();
}

beforeAll(async () => {
  requireTools();
  t = await startTestFleet({ group: GROUP, autoscaler: { capacity_per_instance: 2, max_instances: 1 } });
  const src = path.join(t.dir, 'src');
  git(t.dir, 'init', '-q', '-b', 'main', src);
  await writeFile(path.join(src, 'hello.txt'), 'hello from git\n');
  git(src, 'add', '.');
  git(src, 'commit', '-q', '-m', 'first');
  sha = git(src, 'rev-parse', 'HEAD');
  repoDir = path.join(t.dir, 'repo.git');
  git(t.dir, 'clone', '-q', '--bare', src, repoDir);
  git(repoDir, 'update-server-info');
  // The coordinator stand-in listens on the host side of the machines' subnet, as a real one would.
  server = await startArtifactServer(hostAddress(GROUP), repoDir);
});

afterAll(async () => {
  await server?.close();
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  await destroyGroup(GROUP, t?.dir ?? '/nonexistent');
  expect(await namespaces(GROUP)).toEqual([]);
  expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).not.toContain(`flv-${GROUP}`);
});

/** A busybox web server answering `text` (the registry mirror has busybox). */
function webService(alias: string, text: string): JobImage {
  return {
    name: 'busybox:latest',
    alias,
    command: ['sh', '-c', `mkdir -p /www && echo "${text}" > /www/index.html && httpd -f -p 80 -h /www`],
  };
}

/**
 * A script line printing `label` and the body of http://HOST/ (services start asynchronously: a few
 * tries). Node's fetch, in the helper image: busybox's wget crashes on these machines' engines.
 */
function fetchLine(host: string, label: string): string {
  return `node -e "const go = (n) => fetch('http://${host}/').then((r) => r.text()).then((t) => console.log('${label} ' + t.trim()), (e) => n > 0 ? setTimeout(() => go(n - 1), 200) : (console.log('${label} failed ' + e), process.exit(1))); go(50)"`;
}

function sourcesPayload(script: string[], overrides: Partial<JobPayload>, variables: Record<string, string>) {
  const image = { name: `${hostAddress(GROUP)}:5000/flotilla-helper:${VERSION}` };
  const base = dockerPayload(script, { image, ...overrides }, { GIT_STRATEGY: 'fetch', ...variables });
  base.git_info = {
    ...base.git_info,
    repo_url: `${server.url}/repo.git`,
    sha,
    ref: 'main',
    depth: 0,
    refspecs: [],
  };
  return base;
}

describe('docker-autoscaler on local machines: job networks', () => {
  it('runs two services by alias, fetches sources and uploads artifacts through the forwarder; jobs stay apart', async () => {
    // Job B holds the machine's second slot until the test releases it (a file the stand-in serves).
    const b = sourcesPayload(
      [
        'cat hello.txt',
        'echo "B sees $CI_SERVER_URL"',
        `node -e "const go = (n) => fetch(process.env.CI_SERVER_URL + '/repo.git/release-b').then((r) => r.ok || n === 0 ? 0 : Promise.reject()).catch(() => setTimeout(() => go(n - 1), 500)); go(400)"`,
      ],
      { services: [webService('secret', 'job B secret')] },
      { CI_SERVER_URL: server.url },
    );
    const running = runDockerJob(t.factory, b, { url: server.url });
    const key = await eventually('a machine', 240, () => t.fleet.scaler.machines()[0]?.key);
    const connect = await t.fleet.group.connectInfo(key);
    const engine = new URL(connect.dockerHost.replace(/^tcp:/, 'http:'));
    const docker = new Docker({ host: engine.hostname, port: Number(engine.port) });
    const filters = JSON.stringify({ label: [`com.flotilla.job.id=${b.id}`, 'com.flotilla.type=service'] });
    const bAddress = await eventually("job B's service address", 240, async () => {
      // The engine may not answer yet while the machine boots.
      const [service] = await docker.listContainers({ filters }).catch(() => []);
      const nets = Object.values(service?.NetworkSettings.Networks ?? {});
      return nets[0]?.IPAddress || null;
    });

    const a = sourcesPayload(
      [
        'cat hello.txt',
        fetchLine('web', 'web says'),
        fetchLine('api', 'api says'),
        `node -e "fetch('http://${bAddress}/', { signal: AbortSignal.timeout(3000) }).then(() => console.log('CROSS-JOB-' + 'REACHED'), () => console.log('other job ' + 'unreachable'))"`,
        'mkdir -p out && echo built > out/result.txt',
      ],
      {
        services: [webService('web', 'hello from web'), webService('api', 'hello from api')],
        artifacts: [
          {
            name: 'artifacts',
            untracked: false,
            paths: ['out/'],
            exclude: [],
            when: 'on_success',
            expire_in: null,
            artifact_type: 'archive',
            artifact_format: 'zip',
          },
        ],
      },
      {},
    );
    const runA = await runDockerJob(t.factory, a, { url: server.url });
    await writeFile(path.join(repoDir, 'release-b'), 'go\n');
    const runB = await running;

    expect(runA.outcome.state, runA.log).toBe('success');
    expect(runA.log).toMatch(
      /Forwarding the coordinator to the job network at [\d.]+:\d+ \(from the container\)/,
    );
    expect(runA.log).toContain('hello from git');
    expect(runA.log).toContain('web says hello from web');
    expect(runA.log).toContain('api says hello from api');
    // (printed by concatenation: the echoed command line must not satisfy these)
    expect(runA.log).toContain('other job unreachable');
    expect(runA.log).not.toContain('CROSS-JOB-REACHED');
    expect(server.artifacts.has(a.id)).toBe(true);
    expect(runB.outcome.state, runB.log).toBe('success');
    expect(runB.log).toMatch(/B sees http:\/\/[\d.]+:\d+/);
    expect(runB.log).not.toContain(`B sees ${server.url}`);
    expect(runB.log).toContain('hello from git');
  });
});
