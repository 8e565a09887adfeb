/**
 * Which archive entries are safe to write under a destination folder, for the coordinator (refusing
 * an artifacts upload) and the runner and helper (neutralising entries at extraction). Pure: names
 * and symlink targets only, no file system.
 */
import { posix } from 'node:path';

/** Why an entry name would escape the destination (absolute, drive letter, `..`), or null when safe. */
export function unsafeEntryName(name: string): string | null {
  const normalized = name.replace(/\\/g, '/');
  if (normalized === '' || normalized === '/') return 'an empty name';
  if (normalized.startsWith('/') || /^[a-zA-Z]:/.test(normalized)) return 'an absolute path';
  if (normalized.includes('\0')) return 'a NUL byte in its name';
  if (normalized.split('/').includes('..')) return 'a ".." segment';
  return null;
}

/**
 * Why a symlink entry `name` pointing at `target` would lead outside the destination, or null when
 * it stays inside (relative, resolving under the root).
 */
export function unsafeSymlinkTarget(name: string, target: string): string | null {
  const normalized = target.replace(/\\/g, '/');
  if (normalized === '') return 'an empty symlink target';
  if (normalized.startsWith('/') || /^[a-zA-Z]:/.test(normalized))
    return `a symlink to the absolute path "${target}"`;
  const resolved = posix.normalize(posix.join(posix.dirname(name.replace(/\\/g, '/')), normalized));
  if (resolved === '..' || resolved.startsWith('../')) return `a symlink to "${target}" outside the archive`;
  return null;
}
