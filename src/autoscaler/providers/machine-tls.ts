/**
 * TLS for the cloud providers' engines (`tls = true`), Docker Machine's model: the manager keeps one
 * CA and one client certificate under `tls_dir` (made once, keys mode 0600), the engines require
 * client certificates signed by that CA, and every machine gets its own server certificate whose
 * subject alternative names hold its IP addresses. Docker Machine copies that certificate over SSH
 * once the IP is known; a cloud machine's IP is only known after the machine exists, while its user
 * data is fixed when it is created. So the manager makes, per machine, a one-machine issuing CA
 * (signed by its CA, `pathlen:0`, its key only ever in that machine's user data), and the boot
 * script in the user data (`machine-tls-script.ts`) signs the machine's server certificate for the
 * addresses it finds at boot, then deletes the issuing key. Made with openssl, as the `local`
 * provider's certificates are.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { exists, openssl, signCertificate } from './local/certs.js';

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

const signedBy = (caDir: string, dir: string, name: string, subject: string, ext: string): Promise<void> =>
  signCertificate({ caDir, dir, name, subject, ext, key: 'ec' });

/** Makes the CA and the client folder in `dir` (which must be new). */
async function makeManagerTls(dir: string): Promise<void> {
  await mkdir(join(dir, 'client'), { recursive: true, mode: 0o700 });
  await openssl(
    dir,
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '3650',
    '-subj',
    '/CN=flotilla-manager-ca',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  );
  await chmod(join(dir, 'ca-key.pem'), 0o600);
  const client = join(dir, 'client');
  await signedBy(dir, client, 'client', '/CN=flotilla-manager', 'extendedKeyUsage=clientAuth\n');
  await rename(join(client, 'client-cert.pem'), join(client, 'cert.pem'));
  await rename(join(client, 'client-key.pem'), join(client, 'key.pem'));
  await writeFile(join(client, 'ca.pem'), await readFile(join(dir, 'ca.pem')));
}

/**
 * The manager's CA and client certificate in `dir` (`ca.pem`, `ca-key.pem`, `client/`), made once:
 * in a scratch folder renamed into place, so two groups starting at once end with one CA. Returns
 * the client folder (`ca.pem`, `cert.pem`, `key.pem`), the `tls_cert_path` of the engines.
 */
export async function ensureManagerTls(dir: string): Promise<string> {
  const client = join(dir, 'client');
  if (await exists(join(client, 'key.pem'))) return client;
  await mkdir(dirname(dir), { recursive: true });
  const scratch = `${dir}.new-${randomBytes(4).toString('hex')}`;
  try {
    await makeManagerTls(scratch);
    await rename(scratch, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (!(await exists(join(client, 'key.pem')))) throw err;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return client;
}

export interface MachineIssuer {
  /** The issuing CA's certificate (PEM), sent after the server certificate it signs. */
  cert: string;
  /** Its private key (PEM): only in the machine's user data. */
  key: string;
}

/** A one-machine issuing CA for `machine`, signed by the manager's CA in `dir`; nothing is kept. */
export async function machineIssuer(dir: string, machine: string): Promise<MachineIssuer> {
  const scratch = join(dir, `issuing-${machine}-${randomBytes(4).toString('hex')}`);
  await mkdir(scratch, { mode: 0o700 });
  try {
    await signedBy(
      dir,
      scratch,
      'issuer',
      `/CN=${machine} engine issuer`,
      'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
    );
    return {
      cert: await readFile(join(scratch, 'issuer-cert.pem'), 'utf8'),
      key: await readFile(join(scratch, 'issuer-key.pem'), 'utf8'),
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
