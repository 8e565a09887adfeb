/**
 * TLS for the machines' engines, as Docker Machine does it: one CA and one client certificate per
 * group (`<state_dir>/<group>-tls/{ca,cert,key}.pem`), and a server certificate per machine with its
 * address as subject alternative name. Made with openssl.
 */
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd, timeout: 60_000 });
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function signed(dir: string, name: string, subject: string, ext: string, caDir: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    subject,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.csr`,
  );
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    join(caDir, 'ca.pem'),
    '-CAkey',
    join(caDir, 'ca-key.pem'),
    '-CAcreateserial',
    '-days',
    '825',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}-cert.pem`,
  );
  await chmod(join(dir, `${name}-key.pem`), 0o600);
}

/** The group's CA and client certificate (made once); returns the client folder. */
export async function ensureGroupCerts(dir: string): Promise<string> {
  if (await exists(join(dir, 'key.pem'))) return dir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '825',
    '-subj',
    '/CN=flotilla-machines-ca',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  );
  await chmod(join(dir, 'ca-key.pem'), 0o600);
  await signed(dir, 'client', '/CN=flotilla-manager', 'extendedKeyUsage=clientAuth\n', dir);
  await run('cp', [join(dir, 'client-cert.pem'), join(dir, 'cert.pem')]);
  await run('cp', [join(dir, 'client-key.pem'), join(dir, 'key.pem')]);
  await chmod(join(dir, 'key.pem'), 0o600);
  return dir;
}

/** A machine's server certificate for `address` in `machineDir/tls`; returns that folder. */
export async function machineServerCerts(
  groupDir: string,
  machineDir: string,
  address: string,
): Promise<string> {
  const dir = join(machineDir, 'tls');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await signed(
    dir,
    'server',
    `/CN=${address}`,
    `subjectAltName=IP:${address}\nextendedKeyUsage=serverAuth\n`,
    groupDir,
  );
  await run('cp', [join(groupDir, 'ca.pem'), join(dir, 'ca.pem')]);
  return dir;
}
