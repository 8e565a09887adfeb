/**
 * Reads a zip's central directory entry by entry with yauzl, decoding names ourselves so that an
 * unsafe name reaches the caller (to refuse or skip with its own message) instead of aborting the
 * whole read inside yauzl.
 */
import type { Readable } from 'node:stream';

import yauzl from 'yauzl';

export interface ZipEntry {
  /** The decoded name (UTF-8 flag or Info-ZIP unicode path, else CP437). */
  readonly name: string;
  readonly isDirectory: boolean;
  readonly isSymlink: boolean;
  /** Permission bits from the external attributes (0 when none). */
  readonly mode: number;
  readonly uncompressedSize: number;
  /** The entry's data (validated against its declared size). */
  open(): Promise<Readable>;
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((res, rej) => {
    yauzl.open(path, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true }, (err, zip) =>
      err ? rej(err) : res(zip),
    );
  });
}

function describe(zip: yauzl.ZipFile, raw: yauzl.Entry): ZipEntry {
  const name = yauzl.getFileNameLowLevel(raw.generalPurposeBitFlag, raw.fileNameRaw, raw.extraFields, false);
  const type = (raw.externalFileAttributes >>> 16) & 0o170000;
  return {
    name,
    isDirectory: name.endsWith('/'),
    isSymlink: type === 0o120000,
    mode: (raw.externalFileAttributes >>> 16) & 0o777,
    uncompressedSize: raw.uncompressedSize,
    open: () => new Promise((res, rej) => zip.openReadStream(raw, (err, s) => (err ? rej(err) : res(s)))),
  };
}

/** Calls `visit` for each entry in order, one at a time; rejects on a corrupt archive. */
export async function walkZip(path: string, visit: (entry: ZipEntry) => Promise<void>): Promise<void> {
  const zip = await openZip(path);
  try {
    await new Promise<void>((res, rej) => {
      zip.on('error', rej);
      zip.on('end', () => res());
      zip.on('entry', (raw: yauzl.Entry) => {
        visit(describe(zip, raw)).then(() => zip.readEntry(), rej);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

/** The entry's data as text, at most `maxBytes` (a symlink's target). */
export async function readEntryText(entry: ZipEntry, maxBytes = 4096): Promise<string> {
  const stream = await entry.open();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) {
      stream.destroy();
      break;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}
