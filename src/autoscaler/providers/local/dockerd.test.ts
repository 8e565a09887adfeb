import { describe, expect, it } from 'vitest';

import { dockerdArgs, type DockerdSpec } from './dockerd.js';

const spec: DockerdSpec = {
  namespace: 'flotilla-a',
  address: '10.1.0.2',
  port: 2376,
  dir: '/m/a',
  runDir: '/run/a',
  storageDriver: 'overlay2',
  registryMirrors: ['http://m1'],
  insecureRegistries: ['r:5000'],
};

const COMMON = [
  '--net=/var/run/netns/flotilla-a',
  'dockerd',
  '--host',
  'tcp://10.1.0.2:2376',
  '--data-root',
  '/m/a/data',
  '--exec-root',
  '/run/a/exec',
  '--pidfile',
  '/run/a/dockerd.pid',
  '--containerd-namespace',
  'flotilla-a',
  '--containerd-plugins-namespace',
  'flotilla-a-plugins',
  '--iptables=false',
  '--ip-masq=false',
  '--ip-forward=false',
  '--bridge=none',
  '--host-gateway-ip=10.1.0.2',
  '--storage-driver=overlay2',
];

describe('dockerdArgs', () => {
  it('puts data in dir, exec root and pidfile in runDir, and turns TLS off without a tlsDir', () => {
    expect(dockerdArgs(spec)).toEqual([
      ...COMMON,
      '--registry-mirror',
      'http://m1',
      '--insecure-registry',
      'r:5000',
      '--tls=false',
    ]);
  });

  it("requires client certificates with the tlsDir's ca.pem, server-cert.pem and server-key.pem", () => {
    const args = dockerdArgs({ ...spec, tlsDir: '/m/a/tls', registryMirrors: [], insecureRegistries: [] });
    expect(args).toEqual([
      ...COMMON,
      '--tlsverify',
      '--tlscacert',
      '/m/a/tls/ca.pem',
      '--tlscert',
      '/m/a/tls/server-cert.pem',
      '--tlskey',
      '/m/a/tls/server-key.pem',
    ]);
  });
});
