/**
 * Runner and job tokens' SHA-256 hashes, remembered per token: a runner's clients send the same
 * token on every job request, and a job's token comes back on each trace PATCH and update. Only
 * the hash is memoized (a pure function of the token); the record is still read by hash on every
 * request, so revoking a runner or finishing a job takes effect exactly as without it.
 */
import { hashToken } from '../shared/hash.js';

/** Tokens remembered; the oldest is dropped first (1,000 clients on 50 runners, 1,000 jobs running). */
const TOKEN_HASHES_KEPT = 4_096;

/**
 * Longer tokens are hashed but not remembered: the memo is filled before a token is checked, so an
 * unauthenticated client sending megabyte-long tokens must not make it hold them. Tokens the
 * coordinator issues (and GitLab's) are far shorter.
 */
export const MAX_REMEMBERED_TOKEN_LENGTH = 256;

export interface TokenHashes {
  hash(token: string): string;
  readonly size: number;
}

export function createTokenHashes(capacity = TOKEN_HASHES_KEPT): TokenHashes {
  const hashes = new Map<string, string>();
  return {
    hash(token: string): string {
      const known = hashes.get(token);
      if (known !== undefined) return known;
      const hashed = hashToken(token);
      if (token.length > MAX_REMEMBERED_TOKEN_LENGTH) return hashed;
      if (hashes.size >= capacity) {
        const oldest = hashes.keys().next();
        if (!oldest.done) hashes.delete(oldest.value);
      }
      hashes.set(token, hashed);
      return hashed;
    },
    get size(): number {
      return hashes.size;
    },
  };
}

/** The process's memo for runner and job tokens (`findRunner`, `findActiveJob`). */
export const runnerTokenHashes = createTokenHashes();
