/** Driver errors → FlotillaError, so callers never see a dialect's error codes. */
import { FlotillaError } from '../../../shared/errors.js';

type ConstraintKind = 'unique' | 'foreign_key';

function constraintKind(err: unknown): ConstraintKind | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return 'unique';
  }
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
  return null;
}

/**
 * Runs `fn`, turning a unique violation into FLO_ERR_CONFLICT (`conflict` says what exists) and a
 * foreign-key violation into FLO_ERR_NOT_FOUND (a referenced row is missing).
 */
export async function translateConstraints<T>(conflict: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const kind = constraintKind(err);
    if (kind === 'unique') throw new FlotillaError('FLO_ERR_CONFLICT', conflict, { cause: err });
    if (kind === 'foreign_key') {
      throw new FlotillaError('FLO_ERR_NOT_FOUND', 'a referenced record does not exist', { cause: err });
    }
    throw err;
  }
}
