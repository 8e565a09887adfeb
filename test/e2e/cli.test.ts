/**
 * End to end through the CLI as a user runs it: `flotilla run` on the examples (embedded
 * coordinator and runner), failures and bad input, and `flotilla lint` on deliberately broken files.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLI } from '../helpers/processes.js';
import { isGone } from '../kits/executors/processes.js';
import { tempDir } from '../../harness/temp-dir.js';

const exec = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function flotilla(args: string[], cwd = ROOT): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

let tmp: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  tmp = await tempDir('flotilla-cli-');
});

afterAll(async () => {
  await tmp.remove();
});

describe('flotilla run', () => {
  it('runs the example pipeline, streams job logs and exits 0', async () => {
    const { code, out } = await flotilla([
      'run',
      'examples/hello-pipeline',
      '--no-color',
      '--executor',
      'shell',
    ]);
    expect(code, out).toBe(0);
    expect(out).toContain('Executor: shell');
    expect(out).toContain('build        | ');
    expect(out).toContain('words counted correctly');
    expect(out).toMatch(/Pipeline #\d+ success/);
    expect(out).toMatch(/lint\s+failed .*\[allowed to fail\]/);
    expect(out).toMatch(/publish\s+manual/);
  });

  it('runs extends, include, rules, parallel:matrix and needs', async () => {
    const { code, out } = await flotilla([
      'run',
      'examples/advanced-pipeline',
      '--no-color',
      '--executor',
      'shell',
    ]);
    expect(code, out).toBe(0);
    for (const name of ['test: [unit, 1]', 'test: [unit, 2]', 'test: [api, 1]', 'test: [api, 2]'])
      expect(out).toContain(name);
    expect(out).not.toContain('only-on-tags');
    expect(out).toContain('suite api shard 2 on node');
    expect(out).toContain('coverage 91.25%');
    expect(out).toContain('docs/render  | rendering demo docs as html (parent_pipeline pipeline)');
  });

  it('runs uncommitted changes of a repository and exits 1 when the pipeline fails', async () => {
    const repo = path.join(tmp.dir, 'failing');
    await mkdir(repo, { recursive: true });
    await exec('git', ['init', '-q', '-b', 'main'], { cwd: repo });
    await writeFile(path.join(repo, '.gitlab-ci.yml'), 'check:\n  script: [cat note.txt, exit 4]\n');
    await writeFile(path.join(repo, 'note.txt'), 'uncommitted-note\n');
    const { code, out } = await flotilla(['run', repo, '--no-color', '--executor', 'shell']);
    expect(code, out).toBe(1);
    expect(out).toContain('uncommitted-note');
    expect(out).toMatch(/Pipeline #\d+ failed/);
    expect(out).toContain('exit code 4');
  });

  it('starts the shell jobs’ processes from a zygote, not from its own Node process', async () => {
    const repo = path.join(tmp.dir, 'zygote');
    await mkdir(repo, { recursive: true });
    await exec('git', ['init', '-q', '-b', 'main'], { cwd: repo });
    // the first step runs in the checkout's process (exec'd), the after_script in its own; the
    // first stage's process starts the zygote and is forked by this process
    const job = (name: string) =>
      `${name}:\n  stage: test\n  script: ['echo "${name} parent=$(cat /proc/$PPID/comm)"']\n` +
      `  after_script: ['echo "${name} after parent=$(cat /proc/$PPID/comm)"']\n`;
    const first = `first:\n  stage: build\n  script: ['echo first']\n`;
    await writeFile(path.join(repo, '.gitlab-ci.yml'), first + job('one') + job('two'));
    const { code, out } = await flotilla(['run', repo, '--no-color', '--executor', 'shell']);
    expect(code, out).toBe(0);
    for (const name of ['one', 'two']) {
      expect(out).toContain(`${name} parent=bash`);
      expect(out).toContain(`${name} after parent=bash`);
    }
    expect(out).not.toMatch(/parent=node/);
  });

  it('stops the running jobs’ processes on Ctrl-C and exits 130', async () => {
    const repo = path.join(tmp.dir, 'interrupted');
    await mkdir(repo, { recursive: true });
    await exec('git', ['init', '-q', '-b', 'main'], { cwd: repo });
    const pids = path.join(repo, 'pids');
    // the second stage's job runs in the zygote's process; both its processes must go
    const yaml =
      'a:\n  stage: build\n  script: [echo a]\n' +
      `b:\n  stage: test\n  script: ['sleep 300 & echo $! > ${pids}; echo $$ >> ${pids}; wait']\n`;
    await writeFile(path.join(repo, '.gitlab-ci.yml'), yaml);
    const child = spawn(process.execPath, [CLI, 'run', repo, '--no-color', '--executor', 'shell'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let running: number[] = [];
    while (running.length < 2) {
      await new Promise((r) => setTimeout(r, 50));
      running = existsSync(pids)
        ? (await readFile(pids, 'utf8')).split('\n').filter(Boolean).map(Number)
        : [];
    }
    child.kill('SIGINT');
    expect(await exited, out).toBe(130);
    expect(out).toContain('SIGINT: stopping the running jobs');
    for (const pid of running) {
      while (!isGone(pid)) await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('uses the docker executor when an engine and the helper image are available, and says so', async () => {
    const { code, out } = await flotilla(['run', 'examples/hello-pipeline', '--no-color']);
    expect(code, out).toBe(0);
    expect(out).toContain('Executor: docker (a Docker Engine is available)');
    expect(out).toMatch(/Using Docker executor with image busybox:latest|busybox/);
    expect(out).toContain('words counted correctly');
  });

  it('says what to fix for a directory without .gitlab-ci.yml, or one that does not exist, and nothing else', async () => {
    const { code, out } = await flotilla(['run', tmp.dir]);
    expect(code).toBe(1);
    expect(out.trim()).toBe(
      `flotilla: ${await realpath(tmp.dir)} has no .gitlab-ci.yml; create one there or pass the directory that has it [FLO_ERR_CONFIG_INVALID]`,
    );
    const missing = path.join(tmp.dir, 'no-such-dir');
    const gone = await flotilla(['run', missing]);
    expect(gone.code).toBe(1);
    expect(gone.out.trim()).toBe(`flotilla: directory ${missing} does not exist [FLO_ERR_CONFIG_INVALID]`);
  });

  it('says what to fix for a bad --concurrent and exits (nothing left running)', async () => {
    const { code, out } = await flotilla([
      'run',
      'examples/hello-pipeline',
      '--executor',
      'shell',
      '--concurrent',
      '0',
    ]);
    expect(code).toBe(1);
    expect(out).toContain('--concurrent must be a positive integer, got "0"');
  });

  it('reports an invalid .gitlab-ci.yml as a failed pipeline with positioned errors', async () => {
    const dir = path.join(tmp.dir, 'invalid');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, '.gitlab-ci.yml'), 'job:\n  script: [echo]\n  when: sometimes\n');
    const { code, out } = await flotilla(['run', dir]);
    expect(code).toBe(1);
    expect(out).toContain('jobs:job:when config should be one of');
    expect(out).toContain('.gitlab-ci.yml:3:3');
  });
});

describe('flotilla lint', () => {
  it('accepts the examples', async () => {
    for (const example of ['hello-pipeline', 'advanced-pipeline']) {
      const { code, out } = await flotilla(['lint', `examples/${example}/.gitlab-ci.yml`]);
      expect(code, out).toBe(0);
      expect(out).toContain('is valid');
    }
  });

  it('prints positioned errors and exits 1 for each broken file', async () => {
    const dir = path.join(ROOT, 'test/fixtures/broken');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) {
      const { code, out } = await flotilla(['lint', path.join(dir, file)]);
      expect(code, `${file}: ${out}`).toBe(1);
      expect(out, file).toMatch(new RegExp(`${file.replace('.', '\\.')}:\\d+:\\d+`));
    }
  });

  it('prints the lint API shape with --json', async () => {
    const { code, out } = await flotilla(['lint', '--json', 'test/fixtures/broken/bad-when.yml']);
    expect(code).toBe(1);
    const parsed = JSON.parse(out.slice(0, out.lastIndexOf('}') + 1));
    expect(parsed.valid).toBe(false);
    expect(parsed.errors[0]).toContain('jobs:build:when');
  });
});
