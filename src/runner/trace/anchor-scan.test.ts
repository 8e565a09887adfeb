import { describe, expect, it } from 'vitest';

import { createByteStats, firstMatch, type AnchorGroup, type Needle } from './anchor-scan.js';
import { DEFAULT_TOKEN_PREFIXES } from './masker.js';

function needles(texts: string[]): Needle[] {
  return texts.map((t, order) => ({ bytes: Buffer.from(t), order }));
}

/** The earliest full match at or after `from`, lower order first: the plain definition. */
function naiveFirst(data: Buffer, list: Needle[], from: number): { at: number; order: number } | null {
  for (let at = from; at < data.length; at++) {
    const hit = list.find((n) => data.subarray(at, at + n.bytes.length).equals(n.bytes));
    if (hit) return { at, order: hit.order };
  }
  return null;
}

function rng(seed: number): (n: number) => number {
  let state = seed * 7919;
  return (n) => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
}

describe('anchor scan', () => {
  it.each([1, 2, 3, 4, 5, 6])('finds what the plain search finds, whatever the anchors (seed %i)', (seed) => {
    const rand = rng(seed);
    const list = needles(['ab-', 'b-c', 'abc', '-', 'ca-b', 'a', 'bca-bc']);
    const alphabet = 'abc-';
    const data = Buffer.from(Array.from({ length: 300 }, () => alphabet[rand(4)]).join(''));
    // anchors chosen at random, one group per anchor byte as the planner makes them
    const groups = new Map<number, AnchorGroup>();
    for (const needle of list) {
      const k = rand(needle.bytes.length);
      const byte = needle.bytes[k] as number;
      const g = groups.get(byte) ?? { byte, entries: [], minK: k, maxK: k };
      g.entries.push({ needle, k });
      g.minK = Math.min(g.minK, k);
      g.maxK = Math.max(g.maxK, k);
      groups.set(byte, g);
    }
    for (let from = 0; from <= data.length; from += 7) {
      const found = [...groups.values()]
        .map((g) => firstMatch(data, g, from))
        .filter((m) => m !== null)
        .sort((a, b) => a.at - b.at || a.needle.order - b.needle.order)[0];
      const expected = naiveFirst(data, list, from);
      expect(found ? { at: found.at, order: found.needle.order } : null).toEqual(expected);
    }
  });

  it('finds a match that starts before an earlier hit of the anchor gives', () => {
    const [short, long] = needles(['-b', 'a-baa-']) as [Needle, Needle];
    const group: AnchorGroup = {
      byte: 0x2d,
      entries: [
        { needle: short, k: 0 },
        { needle: long, k: 5 },
      ],
      minK: 0,
      maxK: 5,
    };
    // the first '-' (at 2) gives '-b' at 2; the second (at 6) gives 'a-baa-' at 1, earlier
    expect(firstMatch(Buffer.from('aa-baa-'), group, 0)).toEqual({ at: 1, needle: long });
    expect(firstMatch(Buffer.from('aa-baa-'), group, 2)).toEqual({ at: 2, needle: short });
  });

  it('anchors the token prefixes on a byte the log lacks, in one group', () => {
    const stats = createByteStats();
    const text = Buffer.from(
      '0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrs\n'.repeat(3000),
    );
    for (let i = 0; i < text.length; i += 65536) stats.observe(text.subarray(i, i + 65536));
    const gl = DEFAULT_TOKEN_PREFIXES.filter((p) => p.startsWith('gl'));
    const groups = stats.plan(needles([...gl]));
    expect(groups.map((g) => String.fromCharCode(g.byte))).toEqual(['-']);
  });

  it('samples every byte of output that repeats with a period sharing a factor with the sampling', () => {
    const stats = createByteStats();
    // 102-byte lines in 64 KiB chunks: a fixed stride of 128 sees only the even columns
    const line =
      '0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrs\n';
    const text = Buffer.from(line.repeat(20_000));
    for (let round = 0; round < 80; round++)
      for (let i = 0; i + 65536 <= text.length; i += 65536) stats.observe(text.subarray(i, i + 65536));
    // 'l' is in an odd column, '-' is nowhere: the secret stays anchored on '-'
    const [group] = stats.plan(needles(['glcbt-64_abcdefghijklmnopqrstu']));
    expect(String.fromCharCode(group?.byte ?? 0)).toBe('-');
  });

  it('moves an anchor off a byte once the log is full of it', () => {
    const stats = createByteStats();
    const list = needles(['glpat-']);
    expect(String.fromCharCode(stats.plan(list)[0]?.byte ?? 0)).toBe('-');
    const dashes = Buffer.from('---- build ----\n'.repeat(16_384));
    let replanned = false;
    for (let i = 0; i < dashes.length; i += 4096)
      replanned = stats.observe(dashes.subarray(i, i + 4096)) || replanned;
    expect(replanned).toBe(true);
    expect(String.fromCharCode(stats.plan(list)[0]?.byte ?? 0)).not.toBe('-');
  });
});
