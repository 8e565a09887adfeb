import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { isGone } from '../../../test/kits/executors/processes.js';
import { directLauncher, type LaunchedProcess, type Launcher, type LaunchRequest } from './launcher.js';
import { startZygote, type Zygote } from './zygote.js';

const zygotes: Zygote[] = [];
afterEach(() => {
  for (const zygote of zygotes.splice(0)) zygote.close();
});

async function newZygote(connectHost?: string): Promise<Zygote> {
  const dir = join(await mkdtemp(join(tmpdir(), 'flo-zygote-')), 'zygote');
  const zygote = startZygote(dir, connectHost ? { connectHost } : {});
  zygotes.push(zygote);
  return zygote;
}

interface Ended {
  code: number | null;
  output: string;
}

/** Runs `script` in bash through `launcher`; `input` goes to its stdin. */
function run(launcher: Launcher, script: string, more: Partial<LaunchRequest> = {}, input?: string) {
  const child = launcher.launch({
    command: 'bash',
    args: ['--noprofile', '--norc', '-c', script],
    cwd: tmpdir(),
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    stdin: input === undefined ? 'ignore' : 'pipe',
    ...more,
  });
  if (input !== undefined) child.stdin?.end(input);
  return { child, ended: ended(child) };
}

function ended(child: LaunchedProcess): Promise<Ended> {
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => chunks.push(b));
  child.stderr?.on('data', (b: Buffer) => chunks.push(b));
  let code: number | null = null;
  child.onExit((c) => (code = c));
  return new Promise((resolve, reject) => {
    child.onError(reject);
    child.onClose(() => resolve({ code, output: Buffer.concat(chunks).toString('utf8') }));
  });
}

/** `env -0` output as a map, without what bash itself sets. */
function envOf(output: string): Map<string, string> {
  const entries = output
    .split('\0')
    .filter((e) => e.includes('='))
    .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as [string, string]);
  return new Map(entries.filter(([k]) => !['_', 'PWD', 'OLDPWD', 'SHLVL'].includes(k)));
}

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}

describe('the zygote launcher', () => {
  it('gives a process the same environment, directory and exit code as the direct launcher', async () => {
    const zygote = await newZygote();
    const dir = await mkdtemp(join(tmpdir(), 'flo-zygote-cwd-'));
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      PLAIN: 'a b',
      QUOTES: `it's "quoted" $HOME \`x\` \\`,
      LINES: 'one\ntwo\r\n',
      EMPTY: '',
      UNICODE: 'héllo ✓',
      id: 'a shell variable name of the wrapper',
      pid: 'another',
    };
    const script = 'env -0; printf "\\0cwd=%s\\0" "$(pwd)"; exit 7';
    const viaZygote = await run(zygote, script, { cwd: dir, env }).ended;
    const direct = await run(directLauncher, script, { cwd: dir, env }).ended;
    expect(viaZygote.code).toBe(7);
    expect(direct.code).toBe(7);
    expect(envOf(viaZygote.output)).toEqual(envOf(direct.output));
    expect(envOf(viaZygote.output).get('QUOTES')).toBe(env.QUOTES);
    expect(envOf(viaZygote.output).get('cwd')).toBe(dir);
    // nothing of the zygote's own: its environment is empty
    expect([...envOf(viaZygote.output).keys()].sort()).toEqual([...Object.keys(env), 'cwd'].sort());
  });

  it('reads stdin from the caller and merges stderr into the output in order', async () => {
    const zygote = await newZygote();
    const { ended: done } = run(
      zygote,
      'read -r line; echo "out $line"; echo err >&2; echo last',
      {},
      'from stdin\n',
    );
    const result = await done;
    expect(result).toEqual({ code: 0, output: 'out from stdin\nerr\nlast\n' });
  });

  it('reports a death by signal as a shell does, and the group is killed as a whole', async () => {
    const zygote = await newZygote();
    expect((await run(zygote, 'kill -TERM $$').ended).code).toBe(143);

    const pidFile = join(await mkdtemp(join(tmpdir(), 'flo-zygote-pid-')), 'pid');
    const { child, ended: done } = run(zygote, `sleep 300 & echo $! > ${pidFile}; sleep 300`);
    await waitFor(() => existsSync(pidFile));
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    child.killGroup('SIGTERM');
    expect((await done).code).toBe(143);
    await waitFor(() => isGone(pid));
  });

  it('kills what a process left behind in its group when it exits', async () => {
    const zygote = await newZygote();
    const pidFile = join(await mkdtemp(join(tmpdir(), 'flo-zygote-pid-')), 'pid');
    // the background child keeps the output open: close comes only once it is killed
    const result = await run(zygote, `sleep 300 & echo $! > ${pidFile}; exit 0`).ended;
    expect(result.code).toBe(0);
    await waitFor(() => isGone(Number(readFileSync(pidFile, 'utf8').trim())));
  });

  it('sends a signal asked for before the process started once it has', async () => {
    const zygote = await newZygote();
    const { child, ended: done } = run(zygote, 'sleep 300');
    child.killGroup('SIGKILL');
    expect((await done).code).toBe(137);
  });

  it('fails a launch into a missing directory without running anything', async () => {
    const zygote = await newZygote();
    const marker = join(await mkdtemp(join(tmpdir(), 'flo-zygote-m-')), 'ran');
    const { ended: done } = run(zygote, `touch ${marker}`, { cwd: '/nonexistent/dir' });
    await expect(done).rejects.toMatchObject({ code: 'ENOENT' });
    expect(existsSync(marker)).toBe(false);
  });

  it('runs many processes at once, each with its own output', async () => {
    const zygote = await newZygote();
    const runs = Array.from({ length: 20 }, (_, i) =>
      run(zygote, `echo start ${i}; sleep 0.0${i % 5}; echo end ${i}; exit ${i}`),
    );
    const results = await Promise.all(runs.map((r) => r.ended));
    results.forEach((result, i) => expect(result).toEqual({ code: i, output: `start ${i}\nend ${i}\n` }));
  });

  it('goes to the direct launcher when a wrapper cannot connect, and for an environment bash cannot export', async () => {
    const unreachable = await newZygote('127.0.0.2');
    const first = await run(unreachable, 'echo "ppid $PPID"; exit 3').ended;
    expect(first.code).toBe(3);
    // started by this process, not by the zygote
    expect(first.output).toBe(`ppid ${process.pid}\n`);

    const zygote = await newZygote();
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', 'NOT-A-NAME': 'v' };
    const odd = await run(zygote, 'env -0; echo; echo "ppid $PPID"', { env }).ended;
    expect(odd.output).toContain('NOT-A-NAME=v');
    expect(odd.output).toContain(`ppid ${process.pid}`);
  });

  it('fails launches the zygote never answered when it dies, and starts the next ones directly', async () => {
    const zygote = await newZygote();
    await run(zygote, 'true').ended;
    const pid = zygote.pid;
    expect(pid).toBeDefined();
    process.kill(pid ?? 0, 'SIGKILL');
    await waitFor(() => isGone(pid ?? 0));
    // sent before this process saw the zygote's end: it fails (it may have been read, so it is
    // never started twice); after that, launches start directly
    const racing = await run(zygote, 'echo "ppid $PPID"').ended.catch((err: Error) => err);
    if (racing instanceof Error) expect(racing.message).toContain('stopped before bash started');
    else expect(racing.output).toBe(`ppid ${process.pid}\n`);
    const after = await run(zygote, 'echo "ppid $PPID"').ended;
    expect(after.output).toBe(`ppid ${process.pid}\n`);
  });

  it('fails a running process once its output ends when the zygote died meanwhile', async () => {
    const zygote = await newZygote();
    await run(zygote, 'true').ended;
    const { child, ended: done } = run(zygote, 'echo started; sleep 0.5');
    let started = false;
    child.stdout.on('data', () => (started = true));
    await waitFor(() => started);
    process.kill(zygote.pid ?? 0, 'SIGKILL');
    await expect(done).rejects.toThrow('its exit status is unknown');
  });

  it('removes its request files, which hold the environment', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flo-zygote-files-'));
    const zygote = startZygote(join(root, 'zygote'));
    zygotes.push(zygote);
    await run(zygote, 'true', { env: { PATH: process.env['PATH'] ?? '', SECRET: 's' } }).ended;
    await waitFor(() => readdirSync(join(root, 'zygote')).length === 0);
    zygote.close();
    expect(existsSync(join(root, 'zygote'))).toBe(false);
  });
});

describe('a lazy zygote', () => {
  it('starts with the first launch, which this process forks itself', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'flo-zygote-lazy-')), 'zygote');
    const zygote = startZygote(dir, { lazy: true });
    zygotes.push(zygote);
    expect(zygote.pid).toBeUndefined();
    const first = await run(zygote, 'echo "ppid $PPID"').ended;
    expect(first.output).toBe(`ppid ${process.pid}\n`);
    const second = await run(zygote, 'echo "ppid $PPID"').ended;
    expect(zygote.pid).toBeDefined();
    expect(second.output).toBe(`ppid ${zygote.pid}\n`);
  });
});

describe('the zygote launcher under load', () => {
  it('reports every one of 200 short processes with its own exit code and output', async () => {
    const zygote = await newZygote();
    const runs = Array.from({ length: 200 }, (_, i) => run(zygote, `echo ${i}; exit ${i % 256}`));
    const results = await Promise.all(runs.map((r) => r.ended));
    results.forEach((result, i) => expect(result).toEqual({ code: i % 256, output: `${i}\n` }));
  });
});
