import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from '../../shared/logger.js';
import { readCgiHead, type CgiHead } from './cgi-response.js';

export interface CgiRunOptions {
  program: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  logger: Logger;
  /** The request body when part of it was already read from `req`; default `req`. */
  body?: Readable;
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_STDERR_BYTES = 8 * 1024;
/** Time between SIGTERM (lets git drop a push's quarantine) and SIGKILL. */
const KILL_GRACE_MS = 5000;

/**
 * Runs a CGI program for one request: streams the request body to its stdin and its response
 * (status and headers from the CGI header block, then the body) to `res`, never buffering the
 * body. Resolves when the program has exited and the response is finished or closed; never
 * rejects. Failures answer 500 when nothing was sent yet, otherwise cut the response off.
 * The program is killed when the client goes away or the timeout passes.
 */
export function runCgi(req: IncomingMessage, res: ServerResponse, options: CgiRunOptions): Promise<void> {
  return new Promise((resolve) => {
    const state = { clientGone: false, finished: false };
    const log = options.logger;
    let child: ChildProcess;
    try {
      child = spawn(options.program, [], {
        env: options.env,
        stdio: 'pipe',
        detached: true,
        windowsHide: true,
      });
    } catch (err) {
      log.error({ err }, 'git http-backend could not start');
      failResponse(res);
      resolve();
      return;
    }
    const stopper = createStopper(child);
    const timer = setTimeout(() => {
      log.warn({ timeoutMs: options.timeoutMs }, 'git http-backend timed out');
      stopper.stop();
      child.stdout?.destroy();
    }, options.timeoutMs);
    const stderr = captureStderr(child);
    const onClientGone = (): void => {
      if (res.writableFinished) return;
      state.clientGone = true;
      stopper.stop();
      // Unread output would keep the pipe (and so the 'close' event) open forever.
      child.stdout?.destroy();
    };
    res.on('close', onClientGone);
    pipeRequest(req, options.body ?? req, child, stopper.stop);
    const relay = pipeResponse(child, res, log);

    const finish = (code: number | null, signal: NodeJS.Signals | null, err?: Error): void => {
      if (state.finished) return;
      state.finished = true;
      clearTimeout(timer);
      stopper.disarm();
      const ok = err === undefined && code === 0;
      if (!ok) logFailure(log, { code, signal, err, stderr: stderr(), clientGone: state.clientGone });
      const head = relay.takePendingHead();
      if (head !== null && ok && !res.headersSent) res.writeHead(head.status, head.headers.flat());
      endResponse(res, ok || state.clientGone);
      whenResponseDone(res, () => {
        res.off('close', onClientGone);
        resolve();
      });
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

function pipeRequest(req: IncomingMessage, body: Readable, child: ChildProcess, stop: () => void): void {
  const stdin = child.stdin;
  if (stdin === null) return;
  // The program may exit before reading the whole body (e.g. an error answer): EPIPE is expected.
  stdin.on('error', () => undefined);
  req.on('error', stop);
  body.pipe(stdin);
}

interface ResponseRelay {
  /** The CGI head if it was parsed but not written yet (no body byte came); clears it. */
  takePendingHead(): CgiHead | null;
}

/**
 * Relays the program's output. The head is written only with the first body byte, so a program
 * that fails after its headers but before any body (e.g. killed while reading a request) still
 * gets a clean 500 instead of a cut-off 200.
 */
function pipeResponse(child: ChildProcess, res: ServerResponse, log: Logger): ResponseRelay {
  let pending: CgiHead | null = null;
  const stdout = child.stdout;
  if (stdout === null) return { takePendingHead: () => null };
  stdout.on('error', (err) => log.warn({ err }, 'git http-backend output failed'));
  readCgiHead(stdout, MAX_HEAD_BYTES, (err, head, rest) => {
    if (err || !head || res.headersSent || res.destroyed) {
      if (err) log.error({ err }, 'git http-backend answered without valid CGI headers');
      stdout.resume();
      return;
    }
    const start = (first: Buffer): void => {
      pending = null;
      res.writeHead(head.status, head.headers.flat());
      res.write(first);
      // end:false — the response ends only once we know the program exited cleanly.
      stdout.pipe(res, { end: false });
    };
    if (rest && rest.length > 0) {
      start(rest);
      return;
    }
    pending = head;
    stdout.once('data', (chunk: Buffer) => {
      if (pending !== null) start(chunk);
    });
    stdout.resume();
  });
  return {
    takePendingHead() {
      const head = pending;
      pending = null;
      return head;
    },
  };
}

/** Ends the response normally, answers 500 if nothing was sent, or cuts off a half-sent body. */
function endResponse(res: ServerResponse, ok: boolean): void {
  if (res.writableEnded || res.destroyed) return;
  if (!res.headersSent) {
    failResponse(res);
  } else if (ok || res.statusCode >= 400) {
    res.end();
  } else {
    res.destroy();
  }
}

export function failResponse(res: ServerResponse, status = 500, message = 'git request failed'): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
  res.end(`${message}\n`);
}

function whenResponseDone(res: ServerResponse, done: () => void): void {
  if (res.writableFinished || res.destroyed) {
    done();
    return;
  }
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    done();
  };
  res.once('finish', once).once('close', once);
}

interface Stopper {
  /** SIGTERM the program's process group now, SIGKILL it after a grace period. */
  stop(): void;
  /** Cancels a pending SIGKILL once the program has exited. */
  disarm(): void;
}

/** The program runs in its own process group so that git's own children are stopped with it. */
function createStopper(child: ChildProcess): Stopper {
  let killTimer: NodeJS.Timeout | undefined;
  const signal = (sig: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  };
  return {
    stop() {
      if (killTimer !== undefined) return;
      signal('SIGTERM');
      killTimer = setTimeout(() => signal('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    },
    disarm() {
      clearTimeout(killTimer);
    },
  };
}

function captureStderr(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (text.length < MAX_STDERR_BYTES) text += chunk.toString('utf8');
  });
  child.stderr?.on('error', () => undefined);
  return () => text.slice(0, MAX_STDERR_BYTES).trim();
}

interface FailureInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  err: Error | undefined;
  stderr: string;
  clientGone: boolean;
}

function logFailure(log: Logger, info: FailureInfo): void {
  const fields = { exitCode: info.code, signal: info.signal, err: info.err, stderr: info.stderr };
  if (info.clientGone) log.info(fields, 'git http-backend stopped: client disconnected');
  else log.error(fields, 'git http-backend failed');
}
