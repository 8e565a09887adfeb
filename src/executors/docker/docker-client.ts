/**
 * A thin layer over dockerode: connect (unix socket, or tcp with TLS client certificates), pull with
 * credentials, run a container with a script on stdin, run a command in a running container, and
 * remove things without caring whether they are already gone. No decisions here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import Docker from 'dockerode';

import { errorMessage, FlotillaError } from '../../shared/errors.js';
import type { JobOutput } from '../executor.js';
import type { RegistryAuth } from './auth.js';
import type { DockerConfig } from './docker-config.js';

export interface DockerEndpoint {
  docker: Docker;
  /** The engine's address for messages, e.g. `unix:///var/run/docker.sock`. */
  address: string;
}

type ConnectionConfig = Pick<DockerConfig, 'host' | 'tls_verify' | 'tls_cert_path'>;

/** Connects lazily (no I/O): `host`, else $DOCKER_HOST, else the local socket. */
export function connectDocker(
  config: ConnectionConfig,
  env: NodeJS.ProcessEnv = process.env,
): DockerEndpoint {
  const address = config.host ?? env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (address.startsWith('unix://'))
    return { docker: new Docker({ socketPath: address.slice('unix://'.length) }), address };
  const url = new URL(address.replace(/^tcp:/, 'http:'));
  const certPath = config.tls_cert_path ?? env.DOCKER_CERT_PATH;
  const tls =
    config.tls_verify ||
    env.DOCKER_TLS_VERIFY === '1' ||
    certPath !== undefined ||
    address.startsWith('https:');
  if (!tls)
    return {
      docker: new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' }),
      address,
    };
  if (!certPath)
    throw new Error(`TLS to ${address} needs tls_cert_path (a folder with ca.pem, cert.pem and key.pem)`);
  const read = (file: string): Buffer => readFileSync(join(certPath, file));
  return {
    docker: new Docker({
      host: url.hostname,
      port: Number(url.port || 2376),
      protocol: 'https',
      ca: read('ca.pem'),
      cert: read('cert.pem'),
      key: read('key.pem'),
    }),
    address,
  };
}

/** Resolves when the engine answers within `timeoutMs`; rejects with a message naming the address. */
export async function pingEngine(endpoint: DockerEndpoint, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs);
  });
  try {
    await Promise.race([endpoint.docker.ping(), timeout]);
  } catch (err) {
    throw new Error(`Cannot connect to the Docker daemon at ${endpoint.address}: ${errorMessage(err)}`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

/** Docker's own message of an Engine API error (the JSON body's `message`), else the error text. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } } | null)?.json;
  return json?.message ?? errorMessage(err);
}

export async function imagePresent(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

/** Pulls `name`; rejects with the registry's reason. */
export async function pullImage(
  docker: Docker,
  name: string,
  auth: RegistryAuth | null,
  platform?: string,
): Promise<void> {
  const options: Record<string, unknown> = {};
  if (auth) options.authconfig = auth;
  if (platform) options.platform = platform;
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(name, options)) as NodeJS.ReadableStream;
  } catch (err) {
    throw new Error(engineMessage(err), { cause: err });
  }
  let failure: string | null = null;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err) => (err ? reject(err) : resolve()),
      (event: { error?: string; errorDetail?: { message?: string } }) => {
        if (event.error) failure = event.errorDetail?.message ?? event.error;
      },
    );
  });
  if (failure !== null) throw new Error(failure);
}

function sink(output: JobOutput): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      output.write(chunk);
      callback();
    },
  });
}

function ended(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

/**
 * Starts an attached container, writes `stdin` and closes it, streams its output to `output` and
 * resolves with its exit code once the output is drained. The caller kills it to stop it early.
 */
/** A hijacked attach to the container's stdin, stdout and stderr (multiplexed unless it has a TTY). */
export async function attachStdio(
  container: Docker.Container,
): Promise<NodeJS.ReadWriteStream & { destroy?(): void }> {
  return (await container.attach({
    stream: true,
    stdin: true,
    stdout: true,
    stderr: true,
    hijack: true,
  })) as NodeJS.ReadWriteStream & { destroy?(): void };
}

export async function runWithStdin(
  container: Docker.Container,
  stdin: string,
  output: JobOutput,
  onStarted?: () => void,
): Promise<number> {
  const stream = await attachStdio(container);
  const drained = ended(stream);
  container.modem.demuxStream(stream, sink(output), sink(output));
  await container.start();
  onStarted?.();
  stream.end(stdin);
  const code = await waitContainer(container);
  await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
  return code;
}

/** The engine dropped a connection before its answer was complete (it died or was cut off). */
export class EngineDisconnectedError extends FlotillaError {
  constructor(what: string) {
    super('FLO_ERR_ENGINE_DISCONNECTED', `the Docker Engine closed the connection during ${what}`);
    this.name = 'EngineDisconnectedError';
  }
}

/**
 * `POST /containers/{id}/wait`: resolves the exit code. Unlike dockerode's `wait()`, which never
 * settles when the engine dies after sending the response headers (the engine sends them at once and
 * the body only when the container exits; docker-modem then waits for an `end` that never comes),
 * this rejects with an `EngineDisconnectedError` when the connection closes before the body.
 */
export function waitContainer(container: Docker.Container): Promise<number> {
  const what = `the wait for container ${container.id.slice(0, 12)}`;
  return new Promise<number>((resolve, reject) => {
    const options = {
      path: `/containers/${container.id}/wait?`,
      method: 'POST',
      isStream: true,
      statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
      options: {},
    };
    container.modem.dial(options, (err: unknown, res: unknown) => {
      if (err) return reject(err instanceof Error ? err : new Error(errorMessage(err)));
      readWaitBody(res as NodeJS.ReadableStream, what).then(resolve, reject);
    });
  });
}

function readWaitBody(stream: NodeJS.ReadableStream, what: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let body = '';
    let settled = false;
    const settle = (f: () => void): void => {
      if (!settled) f();
      settled = true;
    };
    stream.on('data', (chunk: Buffer | string) => void (body += chunk.toString()));
    stream.on('end', () =>
      settle(() => {
        try {
          const parsed = JSON.parse(body) as { StatusCode?: unknown };
          if (typeof parsed.StatusCode !== 'number') throw new Error(`no StatusCode in ${body}`);
          resolve(parsed.StatusCode);
        } catch (err) {
          reject(new Error(`unexpected answer to ${what}: ${errorMessage(err)}`));
        }
      }),
    );
    stream.on('error', () => settle(() => reject(new EngineDisconnectedError(what))));
    stream.on('close', () => settle(() => reject(new EngineDisconnectedError(what))));
  });
}

/** Runs `argv` in a running container with `stdin` (closed after), streaming output; resolves the exit code. */
export async function execWithStdin(
  container: Docker.Container,
  argv: string[],
  stdin: string,
  output: JobOutput,
): Promise<number> {
  const exec = await container.exec({
    Cmd: argv,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = (await exec.start({ hijack: true, stdin: true })) as NodeJS.ReadWriteStream;
  const drained = ended(stream);
  container.modem.demuxStream(stream, sink(output), sink(output));
  stream.end(stdin);
  await drained;
  const info = await exec.inspect();
  return info.ExitCode ?? 1;
}

/** Splits Docker's multiplexed log frames (8-byte header: stream, 0, 0, 0, size) into text. */
export function demuxBuffer(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return offset === 0 && buffer.length > 0 ? buffer.toString('utf8') : Buffer.concat(parts).toString('utf8');
}

/** The last `tail` lines of a container's output (stdout and stderr). */
export async function containerLogs(container: Docker.Container, tail = 100): Promise<string> {
  const buffer = (await container.logs({
    stdout: true,
    stderr: true,
    follow: false,
    tail,
  })) as unknown as Buffer;
  return demuxBuffer(buffer);
}

/** Kills a container (SIGKILL); already stopped or gone is fine. */
export async function killContainer(container: Docker.Container): Promise<void> {
  try {
    await container.kill();
  } catch (err) {
    if (![304, 404, 409].includes(statusOf(err) ?? 0)) throw err;
  }
}

/** Removes a container with its anonymous volumes; gone already is fine. */
export async function removeContainer(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (err) {
    if (![404, 409].includes(statusOf(err) ?? 0)) throw err;
  }
}

/** Creates a volume; an existing one with the same name is reused. */
export async function ensureVolume(docker: Docker, spec: Docker.VolumeCreateOptions): Promise<void> {
  await docker.createVolume(spec);
}

export { statusOf };
