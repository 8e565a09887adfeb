import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newJob, newPipeline, newProject } from '../../../../../test/kits/coordinator/store/conformance.js';
import { createStore } from '../../create-store.js';
import type { Store } from '../../store.js';

const THRESHOLD = 16;

describe('job logs in trace files (SQLite)', () => {
  let dir: string;
  let traces: string;
  let store: Store;

  const open = (): Promise<Store> =>
    createStore(`sqlite://${path.join(dir, 'flotilla.db')}`, {
      traceFiles: { dir: traces, threshold: THRESHOLD },
    });

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'flotilla-trace-files-'));
    traces = path.join(dir, 'traces');
    store = await open();
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let projects = 0;
  async function job(): Promise<{ jobId: number; pipelineId: number }> {
    projects += 1;
    const project = await store.createProject(newProject({ path: `p${projects}` }));
    const { pipeline, jobs } = await store.createPipeline(newPipeline(project.id), [newJob('a')]);
    return { jobId: jobs[0]!.id, pipelineId: pipeline.id };
  }

  it('keeps a small log in the database and moves it to a file once it reaches the threshold', async () => {
    const { jobId } = await job();
    expect(await store.appendTrace(jobId, 0, Buffer.from('small '))).toEqual({ ok: true, size: 6 });
    expect(existsSync(path.join(traces, `${jobId}.log`))).toBe(false);
    expect(await store.appendTrace(jobId, 6, Buffer.from('and now past the threshold'))).toEqual({
      ok: true,
      size: 32,
    });
    expect(readFileSync(path.join(traces, `${jobId}.log`), 'utf8')).toBe('small and now past the threshold');
    expect(await store.appendTrace(jobId, 32, Buffer.from('!'))).toEqual({ ok: true, size: 33 });
    expect((await store.readTrace(jobId)).toString()).toBe('small and now past the threshold!');
    expect((await store.readTrace(jobId, 4, 7)).toString()).toBe('l and n');
    expect((await store.getJob(jobId))?.traceSize).toBe(33);
  });

  it('never returns bytes past the stored size, and writes over them on the next append', async () => {
    const { jobId } = await job();
    await store.appendTrace(jobId, 0, Buffer.from('0123456789abcdefghij'));
    // What a crash between the file write and the size commit leaves behind.
    writeFileSync(path.join(traces, `${jobId}.log`), '0123456789abcdefghijUNACKNOWLEDGED');
    expect((await store.readTrace(jobId)).toString()).toBe('0123456789abcdefghij');
    expect((await store.readTrace(jobId, 15, 100)).toString()).toBe('fghij');
    expect(await store.appendTrace(jobId, 20, Buffer.from('ok'))).toEqual({ ok: true, size: 22 });
    expect((await store.readTrace(jobId)).toString()).toBe('0123456789abcdefghijok');
  });

  it('accepts one of two concurrent appends at one offset, and the file holds exactly it', async () => {
    const { jobId } = await job();
    await store.appendTrace(jobId, 0, Buffer.from('a log longer than sixteen bytes\n'));
    const [first, second] = await Promise.all([
      store.appendTrace(jobId, 32, Buffer.from('first writer\n')),
      store.appendTrace(jobId, 32, Buffer.from('the second one\n')),
    ]);
    expect([first?.ok, second?.ok]).toEqual([true, false]);
    expect(second).toEqual({ ok: false, size: 45 });
    expect((await store.readTrace(jobId)).toString()).toBe('a log longer than sixteen bytes\nfirst writer\n');
  });

  it('appends a body kept in pieces, in order, to the database and to the file', async () => {
    const { jobId } = await job();
    const small = [Buffer.from('ab'), Buffer.from('cd')];
    expect(await store.appendTrace(jobId, 0, small)).toEqual({ ok: true, size: 4 });
    const large = [Buffer.from('-first piece-'), Buffer.alloc(0), Buffer.from('-second piece-')];
    expect(await store.appendTrace(jobId, 4, large)).toEqual({ ok: true, size: 31 });
    expect(existsSync(path.join(traces, `${jobId}.log`))).toBe(true);
    expect((await store.readTrace(jobId)).toString()).toBe('abcd-first piece--second piece-');
    expect(await store.appendTrace(jobId, 4, [Buffer.from('x')])).toEqual({ ok: false, size: 31 });
  });

  it('keeps every byte when reads run while a log moves to its file', async () => {
    const { jobId } = await job();
    await store.appendTrace(jobId, 0, Buffer.from('small '));
    let moving = true;
    const reads: Promise<Buffer>[] = [];
    const reader = (async () => {
      while (moving) {
        reads.push(store.readTrace(jobId));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const moved = await store.appendTrace(jobId, 6, Buffer.from('and now past the threshold'));
    moving = false;
    await reader;
    expect(moved).toEqual({ ok: true, size: 32 });
    for (const read of await Promise.all(reads)) {
      expect(['small ', 'small and now past the threshold']).toContain(read.toString());
    }
    expect(await store.appendTrace(jobId, 32, Buffer.from('!'))).toEqual({ ok: true, size: 33 });
    expect((await store.readTrace(jobId)).toString()).toBe('small and now past the threshold!');
  });

  it('reads the log back after the store is reopened', async () => {
    const { jobId } = await job();
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    await store.appendTrace(jobId, 0, body);
    await store.close();
    store = await open();
    expect((await store.readTrace(jobId)).equals(body)).toBe(true);
  });

  it('removes the files of erased jobs and of deleted pipelines', async () => {
    const erased = await job();
    const deleted = await job();
    for (const { jobId } of [erased, deleted]) await store.appendTrace(jobId, 0, Buffer.alloc(64, 'x'));
    await store.eraseJob(erased.jobId, new Date());
    expect(existsSync(path.join(traces, `${erased.jobId}.log`))).toBe(false);
    expect((await store.readTrace(erased.jobId)).length).toBe(0);
    expect(await store.deletePipeline(deleted.pipelineId)).toBe(true);
    expect(existsSync(path.join(traces, `${deleted.jobId}.log`))).toBe(false);
  });
});
