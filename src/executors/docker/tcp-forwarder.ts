/**
 * A byte-for-byte TCP forwarder (no HTTP parsing): listens on one address and pipes each connection
 * to a target. Used by the docker executor (in the runner process, on a job network's gateway) and
 * by the helper's `forward` command (a container on the engine's host network). Before listening it
 * connects to the target once, so an unreachable coordinator fails the job in seconds, not after the
 * kernel's two-minute connect timeout.
 */
import net from 'node:net';

export interface TcpForwarder {
  /** The port it listens on (chosen by the system when asked for 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Resolves null when a TCP connection to host:port succeeds within `timeoutMs`, else the reason
 * (`timeoutReason` when it timed out).
 */
export function probeTcp(
  host: string,
  port: number,
  timeoutMs: number,
  timeoutReason = `no answer within ${timeoutMs / 1000}s`,
): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => finish(timeoutReason), timeoutMs);
    function finish(error: string | null): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(error);
    }
    socket.once('connect', () => finish(null));
    socket.once('error', (err) => finish(err.message));
  });
}

/** Listens on `listenHost:listenPort` and forwards every connection to `targetHost:targetPort`. */
export async function startTcpForwarder(
  listenHost: string,
  listenPort: number,
  targetHost: string,
  targetPort: number,
): Promise<TcpForwarder> {
  const { server, close } = pipingServer(targetHost, targetPort);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(listenPort, listenHost);
  });
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : listenPort, close };
}

/**
 * A server (not listening yet) that pipes every connection to `targetHost:targetPort`, and `close`,
 * which destroys the open connections and stops the server.
 */
export function pipingServer(
  targetHost: string,
  targetPort: number,
): { server: net.Server; close(): Promise<void> } {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return { server, close };
}
