/**
 * Per-machine TLS on a cloud provider (`tls = true`), end to end: the `aws` provider puts the
 * engine's TLS boot lines in each instance's user data, the emulated EC2 instance runs that user data
 * inside its real machine (network namespace + Docker Engine), the engine starts with `--tlsverify`
 * on 2376 with the server certificate the boot script signed for the machine's address, and a job
 * runs there through the autoscaler over TLS with the manager's client certificate. A client without
 * that certificate, or without TLS, is refused by that engine.
 */
import { readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEc2Emulator, type Ec2Emulator } from '../../emulators/aws/emulator.js';
import { netnsMachineHost, type MachineHost } from '../../emulators/machine-host.js';
import { dockerPayload, runDockerJob } from '../docker/harness.js';
import {
  destroyGroup,
  eventually,
  localConfig,
  namespaces,
  requireTools,
  startTestFleet,
  type TestFleet,
} from './harness.js';

const MACHINES = 'e2etls';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-tls-'));
const tlsDir = join(dir, 'manager-tls');
let host: MachineHost | undefined;
let emu: Ec2Emulator | undefined;
let t: TestFleet | undefined;

beforeAll(async () => {
  requireTools();
  host = await netnsMachineHost(localConfig(MACHINES, join(dir, 'host')));
  emu = await startEc2Emulator({ dir, host });
  t = await startTestFleet({
    group: MACHINES,
    dir: join(dir, 'fleet'),
    autoscaler: { max_instances: 1, policy: [{ idle_count: 1, idle_time: '10m' }] },
    cloud: {
      plugin: 'aws',
      pluginConfig: {
        region: 'us-east-1',
        name: 'e2etls',
        launch_template_id: emu.launchTemplateId,
        subnet_id: emu.subnetId,
        profile: emu.profile,
        credentials_file: emu.credentialsFile,
        endpoint: emu.endpoint,
        forward_coordinator: true,
        tls: true,
        tls_dir: tlsDir,
        user_data:
          '#!/bin/sh\necho "the image starts its engine with the files in /etc/flotilla/engine-tls"\n',
        boot_timeout: 90,
      },
    },
  });
});

afterAll(async () => {
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  await emu?.close();
  await host?.close();
  await destroyGroup(MACHINES, join(dir, 'host'));
  expect(await namespaces(MACHINES)).toEqual([]);
});

/** `GET /_ping` of an engine over https with `options`; the status code, or the error's message. */
function ping(url: string, options: https.RequestOptions): Promise<string> {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { ...options, timeout: 5000, agent: false }, (res) => {
      res.resume();
      resolve(String(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(err.message));
  });
}

describe('aws provider with tls = true', () => {
  it('runs a job over TLS on an instance whose engine requires the manager-signed client certificate', async () => {
    const fleet = t as TestFleet;
    const e = emu as Ec2Emulator;
    const run = await runDockerJob(fleet.factory, dockerPayload(['echo "tls job on $(hostname)"']));
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toMatch(
      /Running on machine flotilla-e2etls-[0-9a-f]{8} \(tcp:\/\/10\.231\.\d+\.\d+:2376\)/,
    );
    expect(run.log).toContain('tls job on');

    // the CA is the manager's, its key private and never sent; the user data carries the boot lines
    expect(statSync(join(tlsDir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(tlsDir, 'client', 'key.pem')).mode & 0o777).toBe(0o600);
    const [instance] = e.instances();
    const userData = Buffer.from(instance?.userData ?? '', 'base64').toString('utf8');
    expect(userData).toContain('/etc/flotilla/engine-tls');
    expect(userData).toContain(readFileSync(join(tlsDir, 'ca.pem'), 'utf8').trim());
    expect(userData).not.toContain(readFileSync(join(tlsDir, 'ca-key.pem'), 'utf8').trim());
    expect(userData).toContain('the image starts its engine');

    const address = await eventually('the idle instance', 60, () => e.instances()[0]?.address);
    const client = {
      ca: readFileSync(join(tlsDir, 'client', 'ca.pem')),
      cert: readFileSync(join(tlsDir, 'client', 'cert.pem')),
      key: readFileSync(join(tlsDir, 'client', 'key.pem')),
    };
    const url = `https://${address}:2376/_ping`;
    // the server certificate holds the machine's IP: verified against the manager's CA
    expect(await ping(url, client)).toBe('200');
    // no client certificate: the engine ends the handshake
    const refused = await ping(url, { ca: client.ca });
    expect(refused).not.toBe('200');
    expect(refused).toMatch(/certificate|handshake|socket hang up|ECONNRESET/i);
    // plain HTTP on the TLS port is no way in either
    expect(await ping(`http://${address}:2376/_ping`, {})).not.toBe('200');
    expect(await ping(`http://${address}:2375/_ping`, {})).toMatch(/ECONNREFUSED/);
  }, 240_000);
});
