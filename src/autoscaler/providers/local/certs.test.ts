/** The local provider's engine certificates, checked with openssl itself. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { certificateText, opensslVerify } from '../../../../test/kits/autoscaler/openssl.js';
import { ensureGroupCerts, machineServerCerts } from './certs.js';
it('makes a group CA, a client certificate and a machine server certificate for its address that openssl verifies', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cc-'));
  const g = await ensureGroupCerts(join(d, 'g'));
  const m = await machineServerCerts(g, join(d, 'm1'), '10.1.2.3');
  const out = opensslVerify(join(g, 'ca.pem'), [join(m, 'server-cert.pem'), join(g, 'cert.pem')]);
  expect(out).toContain('server-cert.pem: OK');
  expect(out).toContain('cert.pem: OK');
  const text = certificateText(join(m, 'server-cert.pem'));
  expect(text).toContain('IP Address:10.1.2.3');
});
