/**
 * Starts a stage's processes from a worker thread instead of the main thread. Node's `spawn` forks
 * the whole process and then blocks the calling thread until the child has exec'd (libuv reads
 * the exec status from a pipe): from a 130–150 MB process on a busy machine that is 10–30 ms per
 * process, during which the main thread (coordinator, runner, log follower in `flotilla run`)
 * does nothing else. In a worker the wait blocks only the worker. The processes, their process
 * groups and their exit codes are the same as with `runProcess`; output chunks come back as
 * messages (their buffers transferred, not copied).
 */
import { Worker } from 'node:worker_threads';

import { settleProcess, type ProcessLauncher, type RunProcessOptions } from './process.js';

/** Messages from the worker, per process id. */
type FromWorker =
  | { id: number; type: 'spawned'; pid: number | undefined }
  | { id: number; type: 'data'; chunk: Uint8Array }
  | { id: number; type: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { id: number; type: 'error'; message: string; code: string | undefined }
  | { id: number; type: 'close' };

// Plain JavaScript run with `eval`, so that it works the same from the bundle and from tsc's output.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const post = (m, t) => parentPort.postMessage(m, t);
parentPort.on('message', ({ id, command, args, cwd, env }) => {
  let child;
  try {
    child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    post({ id, type: 'error', message: String(err && err.message), code: err && err.code });
    return;
  }
  post({ id, type: 'spawned', pid: child.pid });
  const data = (chunk) => {
    const copy = new Uint8Array(chunk);
    post({ id, type: 'data', chunk: copy }, [copy.buffer]);
  };
  child.stdout.on('data', data);
  child.stderr.on('data', data);
  child.on('exit', (code, signal) => {
    post({ id, type: 'exit', code, signal });
    // what the main process left behind in its group must not hold the pipes open
    try { process.kill(-child.pid, 'SIGKILL'); } catch {}
  });
  child.on('error', (err) => post({ id, type: 'error', message: err.message, code: err.code }));
  child.on('close', () => post({ id, type: 'close' }));
});
`;

interface Pending {
  onSpawned(pid: number | undefined): void;
  onData(chunk: Buffer): void;
  onExit(code: number | null, signal: NodeJS.Signals | null): void;
  onError(err: Error): void;
  onClose(): void;
}

function dispatch(pending: Map<number, Pending>, message: FromWorker): void {
  const p = pending.get(message.id);
  if (!p) return;
  switch (message.type) {
    case 'spawned':
      return p.onSpawned(message.pid);
    case 'data':
      return p.onData(Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength));
    case 'exit':
      return p.onExit(message.code, message.signal);
    case 'error':
      pending.delete(message.id);
      return p.onError(Object.assign(new Error(message.message), { code: message.code }));
    case 'close':
      pending.delete(message.id);
      return p.onClose();
  }
}

/**
 * A launcher whose processes are spawned by one worker thread, started at the first process. The
 * worker keeps the process alive only while one of its processes runs; `close()` ends it.
 */
export function createThreadLauncher(): ProcessLauncher & { close(): Promise<void> } {
  let worker: Worker | null = null;
  let nextId = 0;
  const pending = new Map<number, Pending>();

  function started(): Worker {
    if (worker) return worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', (m: FromWorker) => {
      dispatch(pending, m);
      if (pending.size === 0) w.unref();
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.onError(err);
      pending.clear();
      worker = null;
    });
    worker = w;
    return w;
  }

  return {
    run(options: RunProcessOptions): Promise<number> {
      if (options.signal.aborted) return Promise.reject(options.signal.reason);
      const id = ++nextId;
      const settle = settleProcess(options);
      pending.set(id, {
        onSpawned: settle.spawned,
        onData: (chunk) => options.output.write(chunk),
        onExit: settle.exited,
        onError: settle.failed,
        onClose: settle.closed,
      });
      const { command, args, cwd, env } = options;
      const w = started();
      // Referenced while a process runs (as a child process is), so that the process waits for it.
      w.ref();
      w.postMessage({ id, command, args: [...args], cwd, env });
      return settle.promise;
    },
    async close() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}
