import { describe, expect, it } from 'vitest';
import { diffRefSnapshots, parseRefList } from './ref-updates.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const Z = '0'.repeat(40);

describe('ref snapshots', () => {
  it('parses for-each-ref output', () => {
    expect(parseRefList(`${A} refs/heads/main\n${B} refs/tags/v1\n`)).toEqual(
      new Map([
        ['refs/heads/main', A],
        ['refs/tags/v1', B],
      ]),
    );
    expect(parseRefList('')).toEqual(new Map());
  });

  it('reports created, moved and deleted refs sorted by name', () => {
    const before = new Map([
      ['refs/heads/main', A],
      ['refs/heads/gone', A],
      ['refs/heads/same', B],
    ]);
    const after = new Map([
      ['refs/heads/main', B],
      ['refs/heads/same', B],
      ['refs/tags/v1', A],
    ]);
    expect(diffRefSnapshots(before, after)).toEqual([
      { ref: 'refs/heads/gone', before: A, after: Z },
      { ref: 'refs/heads/main', before: A, after: B },
      { ref: 'refs/tags/v1', before: Z, after: A },
    ]);
  });

  it('uses zeros as long as the object names (SHA-256)', () => {
    const long = 'c'.repeat(64);
    expect(diffRefSnapshots(new Map(), new Map([['refs/heads/x', long]]))).toEqual([
      { ref: 'refs/heads/x', before: '0'.repeat(64), after: long },
    ]);
  });
});
