import { describe, expect, it } from 'vitest';
import { AppendBatch, type Append } from './append-batch.js';

/** Statements the batch sent, answered when the test says so; sizes kept per job like the store's. */
function fakeStore(
  options: {
    failMany?: (appends: readonly Append[]) => boolean;
    maxInFlight?: number;
    maxBytes?: number;
  } = {},
) {
  const sizes = new Map<number, number>();
  const sent: { kind: 'one' | 'many'; jobs: number[]; finish: () => void; fail: (err: Error) => void }[] = [];
  const write = (append: Append): boolean => {
    if ((sizes.get(append.jobId) ?? 0) !== append.offset) return false;
    sizes.set(append.jobId, append.offset + append.data.length);
    return true;
  };
  const held = <T>(kind: 'one' | 'many', jobs: number[], answer: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      sent.push({
        kind,
        jobs,
        finish: () => {
          try {
            resolve(answer());
          } catch (err) {
            reject(err);
          }
        },
        fail: (err) => reject(err),
      });
    });
  const batch = new AppendBatch({
    one: (append) =>
      held('one', [append.jobId], () => {
        if (append.jobId < 0) throw new Error('bad append');
        return write(append);
      }),
    many: (appends) =>
      held(
        'many',
        appends.map((a) => a.jobId),
        () => {
          if (options.failMany?.(appends)) throw new Error('statement failed');
          return new Set(appends.filter(write).map((a) => a.jobId));
        },
      ),
    maxInFlight: options.maxInFlight ?? 1,
    maxBatch: 3,
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
  });
  return { batch, sent, sizes };
}

const bytes = (text: string) => Buffer.from(text);
/** Lets the batch's promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('AppendBatch', () => {
  it('sends a lone append at once, by itself', async () => {
    const { batch, sent } = fakeStore();
    const done = batch.append(1, 0, bytes('a'));
    expect(sent.map((s) => s.kind)).toEqual(['one']);
    sent[0]?.finish();
    expect(await done).toBe(true);
  });

  it('sends what arrived meanwhile in one statement, one append per job, oldest first', async () => {
    const { batch, sent } = fakeStore();
    const first = batch.append(1, 0, bytes('a'));
    const waiting = [
      batch.append(2, 0, bytes('bb')),
      batch.append(3, 0, bytes('c')),
      batch.append(2, 2, bytes('b2')), // job 2 again: the next batch
      batch.append(4, 0, bytes('d')),
      batch.append(5, 0, bytes('e')), // past the batch's size of 3: the next batch
    ];
    expect(batch.waiting).toBe(5);
    sent[0]?.finish();
    await first;
    await settle();
    expect(sent[1]).toMatchObject({ kind: 'many', jobs: [2, 3, 4] });
    sent[1]?.finish();
    await settle();
    expect(sent[2]).toMatchObject({ kind: 'many', jobs: [2, 5] });
    sent[2]?.finish();
    expect(await Promise.all(waiting)).toEqual([true, true, true, true, true]);
  });

  it('answers each append of a batch by its own offset', async () => {
    const { batch, sent, sizes } = fakeStore();
    sizes.set(2, 5);
    const first = batch.append(1, 0, bytes('a'));
    const right = batch.append(2, 5, bytes('x'));
    const stale = batch.append(3, 4, bytes('y'));
    sent[0]?.finish();
    await first;
    await settle();
    sent[1]?.finish();
    expect([await right, await stale]).toEqual([true, false]);
    expect(sizes.get(2)).toBe(6);
    expect(sizes.has(3)).toBe(false);
  });

  it('holds a job’s next append until the batch writing its previous one ended', async () => {
    const { batch, sent } = fakeStore({ maxInFlight: 2 });
    const first = batch.append(1, 0, bytes('a'));
    const next = batch.append(1, 1, bytes('b'));
    const other = batch.append(2, 0, bytes('c'));
    // A place is free, but job 1 is being written: only job 2 goes.
    expect(sent.map((s) => s.jobs)).toEqual([[1], [2]]);
    sent[0]?.finish();
    await first;
    await settle();
    expect(sent[2]).toMatchObject({ kind: 'one', jobs: [1] });
    sent[2]?.finish();
    sent[1]?.finish();
    expect([await next, await other]).toEqual([true, true]);
  });

  it('writes a failed batch’s appends one by one, so only the bad one fails', async () => {
    const { batch, sent } = fakeStore({ failMany: (appends) => appends.some((a) => a.jobId < 0) });
    const first = batch.append(1, 0, bytes('a'));
    const good = batch.append(2, 0, bytes('b'));
    const bad = batch.append(-1, 0, bytes('c'));
    const badSettled = bad.then(
      () => 'ok',
      (err: unknown) => (err as Error).message,
    );
    sent[0]?.finish();
    await first;
    await settle();
    sent[1]?.finish(); // the batch statement fails
    await settle();
    expect(sent.slice(2).map((s) => s.kind)).toEqual(['one', 'one']);
    for (const s of sent.slice(2)) s.finish();
    expect(await good).toBe(true);
    expect(await badSettled).toBe('bad append');
  });

  it('fails every append of a batch at once when the database is unreachable', async () => {
    const { batch, sent } = fakeStore();
    const first = batch.append(1, 0, bytes('a'));
    const outcome = (p: Promise<boolean>) =>
      p.then(
        () => 'ok',
        (err: unknown) => (err as Error).message,
      );
    const waiting = [outcome(batch.append(2, 0, bytes('b'))), outcome(batch.append(3, 0, bytes('c')))];
    sent[0]?.finish();
    await first;
    await settle();
    sent[1]?.fail(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    expect(await Promise.all(waiting)).toEqual([
      'connect ECONNREFUSED 127.0.0.1:5432',
      'connect ECONNREFUSED 127.0.0.1:5432',
    ]);
    // No append was sent again one by one.
    expect(sent).toHaveLength(2);
  });

  it('keeps a batch within its bytes, but sends a larger append alone', async () => {
    const { batch, sent } = fakeStore({ maxBytes: 4 });
    const first = batch.append(1, 0, bytes('a'));
    const rest = [
      batch.append(2, 0, bytes('bb')),
      batch.append(3, 0, bytes('cc')),
      batch.append(4, 0, bytes('d')), // over 4 bytes with 2 and 3: the next batch
      batch.append(5, 0, bytes('eeeeee')), // larger than a batch: alone
    ];
    sent[0]?.finish();
    await first;
    await settle();
    expect(sent[1]).toMatchObject({ kind: 'many', jobs: [2, 3] });
    sent[1]?.finish();
    await settle();
    expect(sent[2]).toMatchObject({ kind: 'one', jobs: [4] });
    sent[2]?.finish();
    await settle();
    expect(sent[3]).toMatchObject({ kind: 'one', jobs: [5] });
    sent[3]?.finish();
    expect(await Promise.all(rest)).toEqual([true, true, true, true]);
  });
});
