/**
 * A TCP port on 127.0.0.1 that forwards to the local Docker Engine's socket, so machines of the
 * `fake` provider (whose `dockerHost` is `tcp://...`) have a real engine that answers.
 */
import { createConnection, createServer, type Server } from 'node:net';

export interface DockerProxy {
  port: number;
  close(): Promise<void>;
}

export async function startDockerProxy(socketPath = '/var/run/docker.sock'): Promise<DockerProxy> {
  const server: Server = createServer((client) => {
    const engine = createConnection(socketPath);
    client.pipe(engine).pipe(client);
    const end = (): void => {
      client.destroy();
      engine.destroy();
    };
    client.on('error', end);
    engine.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.unref();
      }),
  };
}
