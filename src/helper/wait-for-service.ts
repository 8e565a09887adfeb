/** `wait-for-service HOST PORT SECONDS`: waits until a TCP connection to HOST:PORT succeeds. */
import type { JobOutput } from '../executors/executor.js';
import { probeTcp } from '../executors/docker/tcp-forwarder.js';

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
    const ms = Math.max(100, Math.min(1000, deadline - Date.now()));
    const error = await probeTcp(host, port, ms, 'connection timed out');
    if (error === null) return 0;
    last = error;
    await new Promise((r) => setTimeout(r, 250));
  }
  output.write(`service ${host}:${port} did not accept connections within ${seconds}s: ${last}\n`);
  return 1;
}
