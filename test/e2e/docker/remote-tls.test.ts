/**
 * A remote engine over TCP with TLS client certificates: a second dockerd on 127.0.0.1 with its own
 * data root, exec root, pidfile and containerd namespace, and certificates made with openssl. It pulls
 * the job and helper images from the local registry.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dockerEnv, dockerFactory, dockerPayload, jobObjects, runDockerJob, VERSION } from './harness.js';

let dir: string;
let daemon: ChildProcess | undefined;
let host: string;
let remote: Docker;

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

async function makeCertificates(certs: string): Promise<void> {
  openssl(
    certs,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=flotilla-e2e-ca',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  );
  await writeFile(
    path.join(certs, 'server.ext'),
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  await writeFile(path.join(certs, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, ext] of [
    ['server', 'server.ext'],
    ['client', 'client.ext'],
  ] as const) {
    openssl(
      certs,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    );
    openssl(
      certs,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      `${name}-cert.pem`,
    );
  }
  // the docker client layout of tls_cert_path: ca.pem, cert.pem, key.pem
  await writeFile(path.join(certs, 'cert.pem'), await readFile(path.join(certs, 'client-cert.pem')));
  await writeFile(path.join(certs, 'key.pem'), await readFile(path.join(certs, 'client-key.pem')));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  dockerEnv();
  dir = await mkdtemp(path.join(tmpdir(), 'flt-tls-'));
  await makeCertificates(dir);
  const port = await freePort();
  host = `tcp://127.0.0.1:${port}`;
  const args = [
    '--host',
    host,
    '--tlsverify',
    '--tlscacert',
    path.join(dir, 'ca.pem'),
    '--tlscert',
    path.join(dir, 'server-cert.pem'),
    '--tlskey',
    path.join(dir, 'server-key.pem'),
    '--data-root',
    path.join(dir, 'data'),
    '--exec-root',
    path.join(dir, 'x'),
    '--pidfile',
    path.join(dir, 'dockerd.pid'),
    '--containerd-namespace',
    'flotilla-e2e-tls',
    '--containerd-plugins-namespace',
    'flotilla-e2e-tls-plugins',
    '--iptables=false',
    '--bridge=none',
    '--storage-driver=vfs',
    '--default-address-pool',
    'base=10.79.0.0/16,size=24',
  ];
  const log: string[] = [];
  daemon = spawn('dockerd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const read = (f: string) => execFileSync('cat', [path.join(dir, f)]);
  remote = new Docker({
    host: '127.0.0.1',
    port,
    protocol: 'https',
    ca: read('ca.pem'),
    cert: read('cert.pem'),
    key: read('key.pem'),
  });
  for (let i = 0; i < 100; i++) {
    if (
      await remote.ping().then(
        () => true,
        () => false,
      )
    )
      return;
    if (daemon.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the TLS dockerd did not come up on ${host}:\n${log.join('').slice(-3000)}`);
});

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon?.once('exit', r));
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon?.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  if (dir) {
    execFileSync('sh', ['-c', `grep ' ${dir}/' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r umount -l`]);
    await rm(dir, { recursive: true, force: true });
  }
});

describe('docker executor: a remote engine over TCP with TLS', () => {
  it('runs a job and its helper on the remote engine, pulling from the registry', async () => {
    const factory = dockerFactory({
      host,
      tls_verify: true,
      tls_cert_path: dir,
      pull_policy: 'if-not-present',
      helper_image: `127.0.0.1:5000/flotilla-helper:${VERSION}`,
    });
    const payload = dockerPayload(['echo "remote job on $(hostname)"'], {
      image: { name: '127.0.0.1:5000/library/busybox:latest' },
    });
    const run = await runDockerJob(factory, payload);
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toContain(`via ${host}`);
    expect(run.log).toContain('Pulling docker image 127.0.0.1:5000/flotilla-helper');
    expect(run.log).toContain('remote job on');
    expect(await jobObjects(remote, payload.id)).toEqual([]);
  });

  it('refuses a client without a certificate', async () => {
    const factory = dockerFactory({ host, pull_policy: 'if-not-present' });
    const run = await runDockerJob(factory, dockerPayload(['echo x']));
    expect(run.outcome).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
    expect(run.outcome.message).toContain(`Cannot connect to the Docker daemon at ${host}`);
  });
});
