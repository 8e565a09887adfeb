/**
 * Service account credentials for the Compute emulator: a real RSA key in Google's key file format,
 * and the check of the self-signed JWTs (RS256, `iss` = the account, `aud` = the Compute API)
 * that Google's auth library sends with it.
 */
import { createPublicKey, createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceAccount {
  email: string;
  keyFile: string;
  publicKey: KeyObject;
}

export function makeServiceAccount(dir: string, project: string): ServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = `flotilla-fleet@${project}.iam.gserviceaccount.com`;
  const keyFile = join(dir, 'service-account.json');
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: project,
      private_key_id: 'emulator-key-1',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: '100000000000000000001',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: 'https://oauth2.googleapis.com/token',
    }),
    { mode: 0o600 },
  );
  return { email, keyFile, publicKey: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })) };
}

/** Null when the bearer token is a valid self-signed JWT of the account, else why not. */
export function checkBearer(header: string | undefined, sa: ServiceAccount, nowS: number): string | null {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m?.[1]) return 'no bearer token';
  const [h, p, s] = m[1].split('.');
  if (!h || !p || !s) return 'not a JWT';
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${h}.${p}`);
  if (!verifier.verify(sa.publicKey, Buffer.from(s, 'base64url'))) return 'bad signature';
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (claims.iss !== sa.email) return `issuer ${String(claims.iss)}`;
  if (claims.aud !== 'https://compute.googleapis.com/') return `audience ${String(claims.aud)}`;
  if (typeof claims.exp !== 'number' || claims.exp < nowS) return 'expired';
  return null;
}
