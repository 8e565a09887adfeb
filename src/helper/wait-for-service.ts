/** `wait-for-service HOST PORT SECONDS`: waits until a TCP connection to HOST:PORT succeeds. */
import { connect } from 'node:net';

import type { JobOutput } from '../executors/executor.js';

function tryConnect(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => finish('connection timed out'), timeoutMs);
    function finish(error: string | null): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(error);
    }
    socket.once('connect', () => finish(null));
    socket.once('error', (err) => finish(err.message));
  });
}

export async function waitForService(args: readonly string[], output: JobOutput): Promise<number> {
  const [host, portText, secondsText] = args;
  const port = Number(portText);
  const seconds = Number(secondsText ?? '30');
  if (!host || !Number.isInteger(port) || port <= 0 || !Number.isFinite(seconds)) {
    output.write('usage: wait-for-service HOST PORT SECONDS\n');
    return 2;
  }
  const deadline = Date.now() + seconds * 1000;
  let last = 'not tried';
  while (Date.now() < deadline) {
    const error = await tryConnect(host, port, Math.max(100, Math.min(1000, deadline - Date.now())));
    if (error === null) return 0;
    last = error;
    await new Promise((r) => setTimeout(r, 250));
  }
  output.write(`service ${host}:${port} did not accept connections within ${seconds}s: ${last}\n`);
  return 1;
}
