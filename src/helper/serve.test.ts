/**
 * The runner's helper session against the helper's real `serve` loop, in one process: what the
 * session writes to the container's stdin is the serve loop's input, and the loop's frames come back
 * in Docker's multiplexed attach format (8-byte headers), as the Engine relays them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';

import type Docker from 'dockerode';
import Modem from 'docker-modem';
import { afterEach, describe, expect, it } from 'vitest';

import { offlineHelperRequest } from '../../test/kits/executors/helper-request.js';
import { serve } from './serve.js';
import type { HelperRequest } from '../executors/docker/helper-request.js';
import { attachHelper, HelperStoppedError } from '../executors/docker/helper-session.js';

let dirs: string[] = [];
let serving: Promise<number>[] = [];

function multiplexed(stream: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

interface FakeHelper {
  container: Docker.Container;
  /** Ends the attach as the Engine does when the container is removed. */
  remove(): void;
  /** Writes to the container's stderr. */
  stderr(text: string): void;
  stop: AbortController;
}

function fakeHelper(): FakeHelper {
  const toServer = new PassThrough();
  const attach = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      toServer.write(chunk);
      callback();
    },
  });
  const stop = new AbortController();
  const scratch = join(tmpdir(), `flotilla-serve-${randomBytes(6).toString('hex')}`);
  dirs.push(scratch);
  serving.push(
    serve(
      { input: toServer, write: (frame) => void attach.push(multiplexed(1, frame)), scratch },
      stop.signal,
    ),
  );
  const container = { id: 'helper', attach: () => Promise.resolve(attach), modem: new Modem() };
  return {
    container: container as unknown as Docker.Container,
    remove: () => {
      stop.abort();
      attach.push(null);
    },
    stderr: (text) => void attach.push(multiplexed(2, Buffer.from(text))),
    stop,
  };
}

afterEach(async () => {
  await Promise.all(serving);
  serving = [];
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function request(strategy: string): Promise<HelperRequest> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-session-'));
  dirs.push(dir);
  return offlineHelperRequest(dir, strategy);
}

function collect(): { write(chunk: string | Uint8Array): void; text(): string } {
  let text = '';
  return { write: (chunk) => void (text += Buffer.from(chunk).toString()), text: () => text };
}

describe('helper session over the serve loop', () => {
  it('runs stages one after the other in the same helper, with their output and exit codes', async () => {
    const helper = fakeHelper();
    const session = await attachHelper(helper.container);
    const first = collect();
    const req = await request('empty');
    expect(await session.run({ command: 'get-sources', request: req }, first)).toBe(0);
    expect(first.text()).toContain('creating an empty build directory');
    expect(await readdir(req.projectDir)).toEqual([]);
    const second = collect();
    expect(await session.run({ command: 'get-sources', request: await request('fetch') }, second)).toBe(1);
    expect(second.text()).toContain('http://127.0.0.1:9 is unreachable');
    helper.remove();
  });

  it('reports a bad request as the stage failing, and the helper goes on serving', async () => {
    const helper = fakeHelper();
    const session = await attachHelper(helper.container);
    const out = collect();
    const bad = { command: 'format-disk', request: await request('none') } as never;
    expect(await session.run(bad, out)).toBe(1);
    expect(out.text()).toContain('unknown helper command "format-disk"');
    expect(await session.run({ command: 'get-sources', request: await request('none') }, collect())).toBe(0);
    helper.remove();
  });

  it('puts the helper stderr into the running stage log', async () => {
    const helper = fakeHelper();
    const session = await attachHelper(helper.container);
    const out = collect();
    const running = session.run({ command: 'get-sources', request: await request('none') }, out);
    helper.stderr('(node) a warning\n');
    expect(await running).toBe(0);
    expect(out.text()).toContain('(node) a warning');
    helper.remove();
  });

  it('fails a stage with HelperStoppedError once the helper is gone, also a later one', async () => {
    const helper = fakeHelper();
    const session = await attachHelper(helper.container);
    helper.stop.abort();
    const running = session.run({ command: 'get-sources', request: await request('none') }, collect());
    helper.remove();
    await expect(running).rejects.toBeInstanceOf(HelperStoppedError);
    expect(session.alive).toBe(false);
    await expect(
      session.run({ command: 'get-sources', request: await request('none') }, collect()),
    ).rejects.toThrow(/the helper container helper stopped \(get-sources\)/);
  });
});
