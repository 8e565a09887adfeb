/**
 * A TCP proxy on loopback in front of a coordinator, for fault tests with real processes:
 * - `drop(n)`: the next n connections are accepted and closed at once, before any byte is read or
 *   answered (git sees "Empty reply from server" or a reset); later ones are forwarded;
 * - `down()`: until `up()`, every new connection is closed at once (a coordinator that is
 *   restarting), or with `{ status: 503, retryAfter }` answered `503` with `Retry-After` (a
 *   coordinator whose database is down); open connections are cut too.
 * Counts what it did, so a test can report the attempts it caused.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface FlakyProxy {
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections closed unanswered or answered 503 by the proxy. */
  readonly dropped: number;
  drop(count: number): void;
  down(answer?: { status: 503; retryAfter: number }): void;
  up(): void;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: { host: string; port: number }): Promise<FlakyProxy> {
  const state = {
    connections: 0,
    dropped: 0,
    toDrop: 0,
    down: false as boolean,
    answer: null as { status: 503; retryAfter: number } | null,
  };
  const open = new Set<net.Socket>();

  function refuse(socket: net.Socket): void {
    state.dropped++;
    const answer = state.answer;
    if (!answer) return void socket.destroy();
    // answer once the request has arrived, as a real server would
    socket.once('data', () =>
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${answer.retryAfter}\r\n` +
          'Content-Length: 0\r\nConnection: close\r\n\r\n',
      ),
    );
    socket.on('error', () => undefined);
  }

  const server = net.createServer((client) => {
    state.connections++;
    if (state.down) return refuse(client);
    if (state.toDrop > 0) {
      state.toDrop--;
      state.dropped++;
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const forget = (): void => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return state.connections;
    },
    get dropped() {
      return state.dropped;
    },
    drop(count) {
      state.toDrop += count;
    },
    down(answer) {
      state.down = true;
      state.answer = answer ?? null;
      for (const socket of open) socket.destroy();
    },
    up() {
      state.down = false;
      state.answer = null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
