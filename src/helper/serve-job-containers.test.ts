/**
 * The docker executor's job containers (job-containers.ts) with the helper's real `serve` loop behind
 * a fake Engine: a stage per request over one attach, a new attach when the old one was cut while the
 * helper still runs, and the Engine's own error plus a fresh helper when the helper was removed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';

import type Docker from 'dockerode';
import Modem from 'docker-modem';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';

import { offlineHelperRequest } from '../../test/kits/executors/helper-request.js';
import { executorJob, jobPayload } from '../../test/kits/executors/job-fixture.js';
import { dockerConfigSchema } from '../executors/docker/docker-config.js';
import type { HelperRequest } from '../executors/docker/helper-request.js';
import { createJobContainers } from '../executors/docker/job-containers.js';
import { dockerMetrics } from '../executors/docker/metrics.js';
import { systemClock } from '../shared/clock.js';
import { serve } from './serve.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

function multiplexed(payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(1, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** A helper container whose process is the real serve loop; each attach is a new stream to it. */
class FakeHelper {
  running = true;
  removed = false;
  attaches = 0;
  private current: Duplex | null = null;
  private readonly input = new PassThrough();
  private readonly stop = new AbortController();
  readonly id = randomBytes(8).toString('hex');
  readonly modem = new Modem();

  constructor() {
    const scratch = join(tmpdir(), `flotilla-serve-${this.id}`);
    const served = serve(
      { input: this.input, write: (frame) => void this.current?.push(multiplexed(frame)), scratch },
      this.stop.signal,
    );
    cleanups.push(async () => {
      this.die();
      await served;
      await rm(scratch, { recursive: true, force: true });
    });
  }

  /** The next attach fails as an Engine that cannot be reached would make it. */
  failNextAttach = false;

  attach(): Promise<Duplex> {
    this.attaches++;
    if (this.failNextAttach) {
      this.failNextAttach = false;
      return Promise.reject(new Error('connect ECONNREFUSED /var/run/docker.sock'));
    }
    const input = this.input;
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        input.write(chunk);
        callback();
      },
    });
    this.current = stream;
    return Promise.resolve(stream);
  }

  /** The Engine ends the attach (connection cut); the process keeps running. */
  cut(): void {
    this.current?.push(null);
    this.current = null;
  }

  /** The process ends (the attach with it). */
  die(): void {
    this.running = false;
    this.stop.abort();
    this.cut();
  }

  inspect(): Promise<{ State: { Running: boolean } }> {
    if (this.removed)
      return Promise.reject(
        Object.assign(new Error(`(HTTP code 404) no such container - No such container: ${this.id}`), {
          statusCode: 404,
        }),
      );
    return Promise.resolve({ State: { Running: this.running } });
  }

  start = (): Promise<void> => Promise.resolve();
  kill = (): Promise<void> => {
    this.die();
    return Promise.resolve();
  };
  remove = (): Promise<void> => {
    this.die();
    this.removed = true;
    return Promise.resolve();
  };
}

function setUp(): { helpers: FakeHelper[]; containers: ReturnType<typeof createJobContainers> } {
  const helpers: FakeHelper[] = [];
  const docker = {
    createContainer: () => {
      const helper = new FakeHelper();
      helpers.push(helper);
      return Promise.resolve(helper);
    },
  };
  const job = executorJob('/builds', jobPayload({ id: 7 }));
  const containers = createJobContainers({
    docker: docker as unknown as Docker,
    spec: { job, config: dockerConfigSchema.parse({}), jobImage: 'busybox', helperImage: 'helper' },
    clock: systemClock,
    metrics: dockerMetrics(new Registry()),
    track: () => undefined,
  });
  return { helpers, containers };
}

async function request(): Promise<HelperRequest> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-job-containers-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return offlineHelperRequest(dir, 'none');
}

const signal = new AbortController().signal;
const output = { write: () => undefined };

describe('job containers over the helper serve loop', () => {
  it('runs every stage in one helper, attaching again when the attach was cut but the helper runs', async () => {
    const { helpers, containers } = setUp();
    expect(await containers.runHelper('get-sources', await request(), output, signal)).toBe(0);
    helpers[0]?.cut();
    expect(await containers.runHelper('get-sources', await request(), output, signal)).toBe(0);
    expect(helpers).toHaveLength(1);
    expect(helpers[0]?.attaches).toBe(2);
  });

  it('drops a helper whose attach failed again, and the next run gets a fresh helper', async () => {
    const { helpers, containers } = setUp();
    expect(await containers.runHelper('get-sources', await request(), output, signal)).toBe(0);
    const first = helpers[0];
    first?.cut();
    if (first) first.failNextAttach = true;
    await expect(containers.runHelper('get-sources', await request(), output, signal)).rejects.toThrow(
      'ECONNREFUSED',
    );
    expect(await containers.runHelper('get-sources', await request(), output, signal)).toBe(0);
    expect(helpers).toHaveLength(2);
    expect(first?.removed).toBe(true);
  });

  it("fails with the Engine's error when the helper was removed, and the next run gets a fresh helper", async () => {
    const { helpers, containers } = setUp();
    expect(await containers.runHelper('get-sources', await request(), output, signal)).toBe(0);
    const first = helpers[0];
    await first?.remove();
    await expect(containers.runHelper('get-sources', await request(), output, signal)).rejects.toThrow(
      `No such container: ${first?.id ?? ''}`,
    );
    expect(await containers.runHelper('get-sources', await request(), output, signal)).toBe(0);
    expect(helpers).toHaveLength(2);
  });

  it('fails with FLO_ERR_HELPER_STOPPED when the helper stopped but was not removed', async () => {
    const { helpers, containers } = setUp();
    expect(await containers.runHelper('get-sources', await request(), output, signal)).toBe(0);
    helpers[0]?.die();
    await expect(containers.runHelper('get-sources', await request(), output, signal)).rejects.toMatchObject({
      code: 'FLO_ERR_HELPER_STOPPED',
    });
  });
});
