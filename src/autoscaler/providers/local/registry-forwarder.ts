/**
 * Machines reach the host only through the host side of their subnet, while a test or developer
 * registry usually listens on loopback. For each loopback registry mirror the provider listens on
 * the host-side address with the same port and forwards bytes to loopback (no HTTP parsing).
 */
import { pipingServer } from '../../../executors/docker/tcp-forwarder.js';

export interface Forwarder {
  /** The mirror URL as the machines see it. */
  mirror: string;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

/** Machine-side mirror URL of `mirror`: loopback hosts become `hostAddress`. PURE. */
export function machineMirror(mirror: string, hostAddress: string): string {
  const url = new URL(mirror);
  if (!isLoopback(url.hostname)) return mirror;
  url.hostname = hostAddress;
  return url.toString().replace(/\/$/, '');
}

/** Forwards `hostAddress:port` to the loopback mirror; an address already served is left as is. */
export async function startForwarder(mirror: string, hostAddress: string): Promise<Forwarder | null> {
  const url = new URL(mirror);
  if (!isLoopback(url.hostname)) return null;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const target = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
  const { server, close } = pipingServer(target, port);
  const listening = await new Promise<boolean>((resolve, reject) => {
    server.once('listening', () => resolve(true));
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? resolve(false) : reject(err),
    );
    server.listen(port, hostAddress);
  });
  server.unref();
  const machineUrl = machineMirror(mirror, hostAddress);
  if (!listening) return { mirror: machineUrl, close: async () => undefined };
  return { mirror: machineUrl, close };
}
