import { describe, expect, it } from 'vitest';

import { hashToken } from '../shared/hash.js';
import { createTokenHashes, MAX_REMEMBERED_TOKEN_LENGTH } from './token-hashes.js';

describe('token hashes', () => {
  it('gives the same hash as hashing the token', () => {
    const hashes = createTokenHashes(4);
    expect(hashes.hash('glrt-abc')).toBe(hashToken('glrt-abc'));
    expect(hashes.hash('glrt-abc')).toBe(hashToken('glrt-abc'));
    expect(hashes.size).toBe(1);
  });

  it('keeps at most its capacity, dropping the oldest', () => {
    const hashes = createTokenHashes(2);
    for (const t of ['a', 'b', 'c']) hashes.hash(t);
    expect(hashes.size).toBe(2);
    expect(hashes.hash('a')).toBe(hashToken('a'));
    expect(hashes.size).toBe(2);
  });

  it('does not remember a token longer than any token the coordinator issues (an unauthenticated client cannot fill memory)', () => {
    const hashes = createTokenHashes(4);
    const long = 'x'.repeat(MAX_REMEMBERED_TOKEN_LENGTH + 1);
    expect(hashes.hash(long)).toBe(hashToken(long));
    expect(hashes.size).toBe(0);
  });
});
