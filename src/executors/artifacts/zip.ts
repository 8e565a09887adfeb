/**
 * Artifact archives: zip with yazl, extract with yauzl. Extraction neutralises entries that would
 * land outside the destination: names with `..` segments, absolute paths, symlinks whose target
 * leaves the destination (checked against the real path of their folder), writes through a symlink
 * that leads out, and repeated names are skipped, each reported to `onSkip`; the other entries are
 * extracted. Entry data is checked against its declared size (yauzl), so a lying archive fails.
 */
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readFile, realpath, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

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
  const compress = options.compress !== false;
  if (!compress && files.every(yazlKeepsName) && (await writeStoredZip(root, files, destination))) return;
  const zip = new yazl.ZipFile();
  for (const file of files) zip.addFile(join(root, file), file, { compress });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(destination));
}

/**
 * Whether yazl's `addFile` takes `name` as the entry's name unchanged (its `validateMetadataPath`):
 * not empty, no `\\` (yazl turns it into `/`), not absolute (`/…`, `C:…`), no `..` segment, no
 * trailing `/`. Any other name goes through yazl, which rewrites or refuses it.
 */
function yazlKeepsName(name: string): boolean {
  return (
    name !== '' &&
    !name.includes('\\') &&
    !/^[a-zA-Z]:/.test(name) &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.split('/').includes('..')
  );
}

/** Past these, stored archives are written by yazl's streams (zip64, and no file held whole). */
const STORED_FAST = { maxFileBytes: 16 << 20, maxTotalBytes: 256 << 20, maxEntries: 0xfffe };
/** yazl's "version made by" (Unix, 6.3) and "needed to extract" (2.0, UTF-8 names). */
const MADE_BY = (3 << 8) | 63;
const NEEDED = 20;
const UTF8_NAMES = 1 << 11;

/** yazl's DOS date and time (local time, clamped to 1980–2107). */
function dosDateTime(when: Date): { date: number; time: number } {
  const min = new Date(1980, 0, 1);
  const max = new Date(2107, 11, 31, 23, 59, 58);
  const d = when < min ? min : when > max ? max : when;
  return {
    date: (d.getDate() & 0x1f) | (((d.getMonth() + 1) & 0xf) << 5) | (((d.getFullYear() - 1980) & 0x7f) << 9),
    time: Math.floor(d.getSeconds() / 2) | ((d.getMinutes() & 0x3f) << 5) | ((d.getHours() & 0x1f) << 11),
  };
}

interface EntryFields {
  time: number;
  date: number;
  crc: number;
  size: number;
  nameLength: number;
}

/**
 * The fields a stored entry's local header (from byte 6) and its central record (from byte 8)
 * share, in the same order: flags (UTF-8 names), method 0 (stored), time, date, CRC-32,
 * compressed and uncompressed size (equal when stored), name length.
 */
function writeEntryFields(header: Buffer, at: number, e: EntryFields): void {
  header.writeUInt16LE(UTF8_NAMES, at);
  header.writeUInt16LE(0, at + 2);
  header.writeUInt16LE(e.time, at + 4);
  header.writeUInt16LE(e.date, at + 6);
  header.writeUInt32LE(e.crc, at + 8);
  header.writeUInt32LE(e.size, at + 12);
  header.writeUInt32LE(e.size, at + 16);
  header.writeUInt16LE(e.nameLength, at + 20);
}

/**
 * The stored (undeflated) archive yazl writes for `addFile(path, name, { compress: false })`, made
 * from each file read whole with its CRC-32 computed natively, instead of a stream per file and a
 * CRC-32 in JavaScript: the same entries (name, UTF-8 flag, DOS time, Unix mode, the central
 * directory's extended timestamp), except that sizes and CRC go in the local headers (as yazl does
 * when it knows them) rather than in data descriptors. False (nothing written) when the files are
 * too many or too large for this path, or this Node has no `zlib.crc32`. Only for names that
 * `yazlKeepsName` accepts (`writeZip` checks).
 */
async function writeStoredZip(root: string, files: readonly string[], destination: string): Promise<boolean> {
  const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (typeof crc32 !== 'function' || files.length > STORED_FAST.maxEntries) return false;
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const path = join(root, file);
    const info = await stat(path);
    if (!info.isFile()) throw new Error(`not a file: ${path}`);
    if (info.size > STORED_FAST.maxFileBytes || offset + info.size > STORED_FAST.maxTotalBytes) return false;
    const data = await readFile(path);
    const name = Buffer.from(file);
    if (name.length > 0xffff) throw new Error(`utf8 file name too long. ${name.length} > ${0xffff}`);
    const crc = crc32(data) >>> 0;
    const { date, time } = dosDateTime(info.mtime);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(NEEDED, 4);
    const entry: EntryFields = { time, date, crc, size: data.length, nameLength: name.length };
    writeEntryFields(local, 6, entry);
    local.writeUInt16LE(0, 28);
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(MADE_BY, 4);
    record.writeUInt16LE(NEEDED, 6);
    writeEntryFields(record, 8, entry);
    record.writeUInt16LE(9, 30);
    record.writeUInt32LE(((info.mode & 0xffff) << 16) >>> 0, 38);
    record.writeUInt32LE(offset, 42);
    // the extended timestamp extra field ("UT": mtime, with the atime flag as Info-ZIP sets it)
    const ut = Buffer.alloc(9);
    ut.writeUInt16LE(0x5455, 0);
    ut.writeUInt16LE(5, 2);
    ut.writeUInt8(3, 4);
    ut.writeInt32LE(Math.max(-0x80000000, Math.min(0x7fffffff, Math.floor(info.mtimeMs / 1000))), 5);
    parts.push(local, name, data);
    central.push(record, name, ut);
    offset += local.length + name.length + data.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  const out = await open(destination, 'w');
  try {
    await out.writev([...parts, ...central, end]);
  } finally {
    await out.close();
  }
  return true;
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

/** Stored entries up to this size are read whole and written with one call, not streamed. */
const STORED_READ_BYTES = 16 << 20;

/**
 * The real folders of one extraction (realFolder's answers), until a symlink entry is written:
 * only a symlink can change where a folder created earlier in the same extraction leads.
 */
type Folders = Map<string, string>;

async function knownFolder(realRoot: string, folder: string, folders: Folders): Promise<string | null> {
  const known = folders.get(folder);
  if (known !== undefined) return known;
  const real = await realFolder(realRoot, folder);
  if (real !== null) folders.set(folder, real);
  return real;
}

/** Extracts one entry; returns why it was skipped, or null when written. */
async function extractEntry(
  realRoot: string,
  root: string,
  entry: ZipEntry,
  folders: Folders,
): Promise<string | null> {
  const target = safeEntryPath(root, entry.name);
  if (target === null)
    return `its name has ${unsafeEntryName(entry.name) ?? 'a path outside the destination'}`;
  if (entry.isDirectory) {
    const real = await knownFolder(realRoot, target, folders);
    return real === null ? 'it leads outside the destination or cannot be created' : null;
  }
  const folder = await knownFolder(realRoot, dirname(target), folders);
  if (folder === null) return 'its folder leads outside the destination or cannot be created';
  const final = join(folder, target.slice(dirname(target).length + 1));
  if (entry.isSymlink) {
    folders.clear();
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
  const stored = await entry.readStored(STORED_READ_BYTES);
  if (stored) await writeFile(final, stored, { mode: entry.mode || 0o644 });
  else await pipeline(await entry.open(), createWriteStream(final, { mode: entry.mode || 0o644 }));
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
  const folders: Folders = new Map();
  await walkZip(zipPath, async (entry) => {
    const key = entry.name.replace(/\\/g, '/').replace(/\/+$/, '');
    const skipped = seen.has(key)
      ? 'the name appears earlier in the archive'
      : await extractEntry(realRoot, root, entry, folders);
    seen.add(key);
    if (skipped === null) written.push(entry.name);
    else options.onSkip?.(entry.name, skipped);
  });
  return written;
}
