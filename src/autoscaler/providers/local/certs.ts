/**
 * TLS for the machines' engines, as Docker Machine does it: one CA and one client certificate per
 * group (`<state_dir>/<group>-tls/{ca,cert,key}.pem`), and a server certificate per machine with its
 * address as subject alternative name. Made with openssl.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, rm, writeFile } from 'node:fs/promises';
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

const KEYS = {
  rsa: ['-newkey', 'rsa:2048', '-nodes'],
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
} as const;

export interface SignRequest {
  /** Holds `ca.pem` and `ca-key.pem`. */
  caDir: string;
  /** Where `<name>-key.pem` (mode 0600) and `<name>-cert.pem` are written. */
  dir: string;
  name: string;
  subject: string;
  /** openssl x509 extensions, e.g. `extendedKeyUsage=clientAuth`. */
  ext: string;
  key: keyof typeof KEYS;
}

/** A new key and a certificate for it signed by the CA in `caDir` (random serial, 825 days). */
export async function signCertificate(r: SignRequest): Promise<void> {
  const { dir, name } = r;
  await writeFile(join(dir, `${name}.ext`), r.ext);
  await openssl(
    dir,
    'req',
    '-new',
    ...KEYS[r.key],
    '-subj',
    r.subject,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.csr`,
  );
  await chmod(join(dir, `${name}-key.pem`), 0o600);
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    join(r.caDir, 'ca.pem'),
    '-CAkey',
    join(r.caDir, 'ca-key.pem'),
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    '825',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}-cert.pem`,
  );
  await rm(join(dir, `${name}.csr`));
  await rm(join(dir, `${name}.ext`));
}

const signed = (dir: string, name: string, subject: string, ext: string, caDir: string): Promise<void> =>
  signCertificate({ caDir, dir, name, subject, ext, key: 'rsa' });

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
