/** `GET /_ping` of a machine's engine over plain TCP or TLS with the group's client certificate. */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';

export async function pingEngine(
  address: string,
  port: number,
  certPath: string | null,
  timeoutMs = 1500,
): Promise<boolean> {
  const tls = certPath
    ? {
        ca: await readFile(join(certPath, 'ca.pem')),
        cert: await readFile(join(certPath, 'cert.pem')),
        key: await readFile(join(certPath, 'key.pem')),
      }
    : null;
  return new Promise<boolean>((resolve) => {
    const options = { host: address, port, path: '/_ping', timeout: timeoutMs, agent: false as const };
    const req = tls ? https.get({ ...options, ...tls }) : http.get(options);
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}
