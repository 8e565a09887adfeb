/**
 * Artifact archives: zip with yazl, extract with yauzl. Extraction neutralises entries that would
 * land outside the destination: names with `..` segments, absolute paths, symlinks whose target
 * leaves the destination (checked against the real path of their folder), writes through a symlink
 * that leads out, and repeated names are skipped, each reported to `onSkip`; the other entries are
 * extracted. Entry data is checked against its declared size (yauzl), so a lying archive fails.
 */
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, realpath, symlink, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

import yazl from 'yazl';

import { unsafeEntryName } from '../../shared/archive-paths.js';
import { readEntryText, walkZip, type ZipEntry } from '../../shared/zip-entries.js';

export interface WriteZipOptions {
  /**
   * Deflate each entry (the default). False stores the entries as they are: a valid zip that any
   * reader extracts, larger but without the CPU of compressing and inflating (for archives that
   * never leave this host, such as `flotilla run`'s).
   */
  compress?: boolean;
}

/** Writes `files` (relative to `root`) into a zip at `destination`. */
export async function writeZip(
  root: string,
  files: readonly string[],
  destination: string,
  options: WriteZipOptions = {},
): Promise<void> {
  const zip = new yazl.ZipFile();
  const compress = options.compress !== false;
  for (const file of files) zip.addFile(join(root, file), file, { compress });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(destination));
}

/** The absolute target of a zip entry, or null when it would escape `root`. */
export function safeEntryPath(root: string, name: string): string | null {
  if (unsafeEntryName(name) !== null) return null;
  const target = resolve(root, name.replace(/\\/g, '/'));
  const rel = relative(resolve(root), target);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? null : target;
}

export interface ExtractOptions {
  /** Called for each entry left out, with why. */
  onSkip?(name: string, reason: string): void;
}

function inside(realRoot: string, path: string): boolean {
  return path === realRoot || path.startsWith(realRoot + sep);
}

/** Creates the entry's folder and returns its real path, or null when that leads outside. */
async function realFolder(realRoot: string, folder: string): Promise<string | null> {
  try {
    await mkdir(folder, { recursive: true });
    const real = await realpath(folder);
    return inside(realRoot, real) ? real : null;
  } catch {
    return null; // a dangling symlink on the way, or a file where a folder should be
  }
}

async function removeLink(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => null);
  if (stat?.isSymbolicLink()) await unlink(path);
}

/** Extracts one entry; returns why it was skipped, or null when written. */
async function extractEntry(realRoot: string, root: string, entry: ZipEntry): Promise<string | null> {
  const target = safeEntryPath(root, entry.name);
  if (target === null)
    return `its name has ${unsafeEntryName(entry.name) ?? 'a path outside the destination'}`;
  if (entry.isDirectory) {
    const real = await realFolder(realRoot, target);
    return real === null ? 'it leads outside the destination or cannot be created' : null;
  }
  const folder = await realFolder(realRoot, dirname(target));
  if (folder === null) return 'its folder leads outside the destination or cannot be created';
  const final = join(folder, target.slice(dirname(target).length + 1));
  if (entry.isSymlink) {
    const link = await readEntryText(entry);
    if (isAbsolute(link) || !inside(realRoot, resolve(folder, link)))
      return `it is a symlink to "${link}", outside the destination`;
    await removeLink(final);
    await symlink(link, final);
    const real = await realpath(final).catch(() => null);
    const dangling = real === null && link.replace(/\\/g, '/').split('/').includes('..');
    if (dangling || (real !== null && !inside(realRoot, real))) {
      await unlink(final);
      return `it is a symlink to "${link}", which leads outside the destination`;
    }
    return null;
  }
  await removeLink(final);
  await pipeline(await entry.open(), createWriteStream(final, { mode: entry.mode || 0o644 }));
  return null;
}

/** Extracts `zipPath` into `root`; returns the names written (unsafe entries skipped, see `onSkip`). */
export async function extractZip(
  zipPath: string,
  root: string,
  options: ExtractOptions = {},
): Promise<string[]> {
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const written: string[] = [];
  const seen = new Set<string>();
  await walkZip(zipPath, async (entry) => {
    const key = entry.name.replace(/\\/g, '/').replace(/\/+$/, '');
    const skipped = seen.has(key)
      ? 'the name appears earlier in the archive'
      : await extractEntry(realRoot, root, entry);
    seen.add(key);
    if (skipped === null) written.push(entry.name);
    else options.onSkip?.(entry.name, skipped);
  });
  return written;
}
