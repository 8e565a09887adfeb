import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { checkEngineSettings, enginePort, engineConnectInfo, machineUserData } from './machine-engine.js';
import { ENGINE_TLS_DIR, tlsUserDataProblem } from './machine-tls-script.js';
import { ensureManagerTls } from './machine-tls.js';
import { certificateText, opensslVerify } from '../../../test/kits/autoscaler/openssl.js';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-machine-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const settings = (extra: Record<string, unknown> = {}) => ({
  tls: true,
  tls_dir: join(dir, 'tls'),
  forward_coordinator: false,
  node_exporter_port: 0,
  ...extra,
});

describe('per-machine engine TLS', () => {
  it('makes the CA once (keys 0600) and a boot script that signs a server certificate the CA verifies, for the addresses found at boot', async () => {
    const s = settings();
    const client = await ensureManagerTls(s.tls_dir);
    const again = await Promise.all([ensureManagerTls(s.tls_dir), ensureManagerTls(s.tls_dir)]);
    expect(again).toEqual([client, client]);
    const ca = readFileSync(join(s.tls_dir, 'ca.pem'), 'utf8');
    expect(readFileSync(join(client, 'ca.pem'), 'utf8')).toBe(ca);
    for (const key of [join(s.tls_dir, 'ca-key.pem'), join(client, 'key.pem')])
      expect(statSync(key).mode & 0o777).toBe(0o600);

    const userData = await machineUserData(
      s,
      'flotilla-t-0a1b2c3d',
      '#!/bin/sh\necho "user part ran"\n',
      'echo 203.0.113.7',
    );
    expect(userData).toBeDefined();
    expect(userData).not.toContain(readFileSync(join(s.tls_dir, 'ca-key.pem'), 'utf8').trim());
    const root = join(dir, 'root');
    const script = join(dir, 'user-data');
    writeFileSync(script, userData ?? '');
    const out = execFileSync('sh', [script], { env: { ...process.env, FLOTILLA_ROOT: root } }).toString();
    expect(out).toContain('user part ran');

    const tls = join(root, ENGINE_TLS_DIR);
    const leafChain = readFileSync(join(tls, 'server-cert.pem'), 'utf8');
    writeFileSync(join(dir, 'issuer.pem'), leafChain.slice(leafChain.indexOf('-----BEGIN', 1)));
    const serverCert = join(tls, 'server-cert.pem');
    const verified = opensslVerify(join(tls, 'ca.pem'), [serverCert], join(dir, 'issuer.pem'));
    expect(verified).toContain('OK');
    const text = certificateText(serverCert);
    expect(text).toContain('IP Address:127.0.0.1');
    expect(text).toContain('IP Address:203.0.113.7');
    expect(text).toContain('CN = flotilla-t-0a1b2c3d');
    // the issuing key is gone from the machine once the certificate is signed
    expect(() => statSync(join(tls, 'issuer-key.pem'))).toThrow();
    expect(statSync(join(tls, 'server-key.pem')).mode & 0o777).toBe(0o600);
  });

  it('connects on 2376 with the client folder, and refuses keys that do not go together', () => {
    const s = settings();
    expect(enginePort(s)).toBe(2376);
    expect(enginePort({ ...s, tls: false })).toBe(2375);
    expect(enginePort({ ...s, docker_port: 12376 })).toBe(12376);
    expect(engineConnectInfo('m', '10.0.0.5', s)).toMatchObject({
      dockerHost: 'tcp://10.0.0.5:2376',
      tls: { certPath: join(s.tls_dir, 'client') },
    });
    expect(() => checkEngineSettings('aws', { ...s, docker_tls_cert_path: '/certs' }, 'user_data')).toThrow(
      'aws: set tls (certificates made by the manager) or docker_tls_cert_path (your own), not both',
    );
    expect(() => checkEngineSettings('digitalocean', s, 'user_data', '#cloud-config\nruncmd: []')).toThrow(
      /digitalocean: user_data must be a shell script starting with "#!" when tls = true .* got "#cloud-config"/,
    );
    expect(tlsUserDataProblem('#!/bin/sh\n', 'user_data')).toBeNull();
    expect(() =>
      checkEngineSettings('aws', { ...s, tls: false }, 'user_data', '#cloud-config'),
    ).not.toThrow();
  });

  it('leaves the user data alone without tls', async () => {
    expect(await machineUserData(settings({ tls: false }), 'm', '#cloud-config\n')).toBe('#cloud-config\n');
  });
});
