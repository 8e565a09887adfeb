/**
 * Artifact archives: zip with yazl, extract with yauzl. Extraction refuses entries that would land
 * outside the destination (absolute paths, `..` segments, symlinks) before writing anything of them.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';

import yauzl from 'yauzl';
import yazl from 'yazl';

/** Writes `files` (relative to `root`) into a zip at `destination`. */
export async function writeZip(root: string, files: readonly string[], destination: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const file of files) zip.addFile(join(root, file), file);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(destination));
}

/** The absolute target of a zip entry, or null when it would escape `root`. */
export function safeEntryPath(root: string, name: string): string | null {
  const normalized = name.replace(/\\/g, '/');
  if (normalized === '' || isAbsolute(normalized) || /^[a-zA-Z]:/.test(normalized)) return null;
  if (normalized.split('/').includes('..')) return null;
  const target = resolve(root, normalized);
  const rel = relative(resolve(root), target);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? null : target;
}

function isSymlink(entry: yauzl.Entry): boolean {
  const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
  return mode === 0o120000;
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((res, rej) => {
    yauzl.open(path, { lazyEntries: true, strictFileNames: true }, (err, zip) => (err ? rej(err) : res(zip)));
  });
}

async function extractEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, target: string): Promise<void> {
  if (entry.fileName.endsWith('/')) {
    await mkdir(target, { recursive: true });
    return;
  }
  await mkdir(dirname(target), { recursive: true });
  const stream = await new Promise<NodeJS.ReadableStream>((res, rej) => {
    zip.openReadStream(entry, (err, s) => (err ? rej(err) : res(s)));
  });
  const mode = (entry.externalFileAttributes >>> 16) & 0o777;
  await pipeline(stream, createWriteStream(target, { mode: mode || 0o644 }));
}

/** Extracts `zipPath` into `root`; rejects (naming the entry) on any entry outside `root`. */
export async function extractZip(zipPath: string, root: string): Promise<string[]> {
  const zip = await openZip(zipPath);
  const written: string[] = [];
  try {
    await new Promise<void>((res, rej) => {
      zip.on('error', rej);
      zip.on('end', () => res());
      zip.on('entry', (entry: yauzl.Entry) => {
        const target = safeEntryPath(root, entry.fileName);
        if (target === null || isSymlink(entry)) {
          rej(
            new Error(
              `refusing artifact entry "${entry.fileName}": it would be written outside the destination`,
            ),
          );
          return;
        }
        extractEntry(zip, entry, target).then(() => {
          written.push(entry.fileName);
          zip.readEntry();
        }, rej);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return written;
}
