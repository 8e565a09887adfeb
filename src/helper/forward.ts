/**
 * `forward LISTEN_HOST TARGET_HOST TARGET_PORT SECONDS`: run on the engine's host network, forwards a
 * job network's gateway to the coordinator (see executors/docker/coordinator-forward.ts). It first
 * connects to the target (at most SECONDS): on failure it prints `unreachable: <reason>` and exits 1;
 * otherwise it prints `forwarding <host>:<port> to <target>` and runs until stopped.
 */
import { probeTcp, startTcpForwarder } from '../executors/docker/tcp-forwarder.js';
import type { JobOutput } from '../executors/executor.js';

export async function forward(args: readonly string[], output: JobOutput): Promise<number> {
  const [listenHost, targetHost, portText, secondsText] = args;
  const port = Number(portText);
  const seconds = Number(secondsText ?? '5');
  if (!listenHost || !targetHost || !Number.isInteger(port) || port <= 0 || !(seconds > 0)) {
    output.write('usage: forward LISTEN_HOST TARGET_HOST TARGET_PORT SECONDS\n');
    return 2;
  }
  const reason = await probeTcp(targetHost, port, seconds * 1000);
  if (reason !== null) {
    output.write(`unreachable: ${targetHost}:${port}: ${reason}\n`);
    return 1;
  }
  const forwarder = await startTcpForwarder(listenHost, 0, targetHost, port);
  output.write(`forwarding ${listenHost}:${forwarder.port} to ${targetHost}:${port}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await forwarder.close();
  return 0;
}
