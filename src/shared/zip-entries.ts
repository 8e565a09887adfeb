/**
 * Reads a zip's central directory entry by entry with yauzl, decoding names ourselves so that an
 * unsafe name reaches the caller (to refuse or skip with its own message) instead of aborting the
 * whole read inside yauzl.
 */
import { open, type FileHandle } from 'node:fs/promises';
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
  /**
   * A stored (undeflated, unencrypted) entry of at most `maxBytes`: its data read at once, with
   * the checks `open` makes (local header signature, declared sizes); null for any other entry,
   * which `open` streams.
   */
  readStored(maxBytes: number): Promise<Buffer | null>;
}

/** Reads ranges of the archive through one handle, opened on first use. */
class ArchiveReader {
  readonly #path: string;
  #handle: Promise<FileHandle> | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  async read(position: number, length: number): Promise<Buffer> {
    this.#handle ??= open(this.#path, 'r');
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await (await this.#handle).read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw new Error('unexpected EOF');
      done += bytesRead;
    }
    return buffer;
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    if (handle) await (await handle.catch(() => null))?.close();
  }
}

async function readStored(reader: ArchiveReader, raw: yauzl.Entry, maxBytes: number): Promise<Buffer | null> {
  const encrypted = (raw.generalPurposeBitFlag & 0x1) !== 0;
  if (raw.compressionMethod !== 0 || encrypted || raw.uncompressedSize > maxBytes) return null;
  // as yauzl's openReadStream: stored data is as long as declared, after a valid local header
  if (raw.compressedSize !== raw.uncompressedSize)
    throw new Error(
      `compressed/uncompressed size mismatch for stored file: ${raw.compressedSize} != ${raw.uncompressedSize}`,
    );
  const header = await reader.read(raw.relativeOffsetOfLocalHeader, 30);
  const signature = header.readUInt32LE(0);
  if (signature !== 0x04034b50)
    throw new Error(`invalid local file header signature: 0x${signature.toString(16)}`);
  const start = raw.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  return reader.read(start, raw.compressedSize);
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((res, rej) => {
    yauzl.open(path, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true }, (err, zip) =>
      err ? rej(err) : res(zip),
    );
  });
}

function describe(zip: yauzl.ZipFile, raw: yauzl.Entry, reader: ArchiveReader): ZipEntry {
  const name = yauzl.getFileNameLowLevel(raw.generalPurposeBitFlag, raw.fileNameRaw, raw.extraFields, false);
  const type = (raw.externalFileAttributes >>> 16) & 0o170000;
  return {
    name,
    isDirectory: name.endsWith('/'),
    isSymlink: type === 0o120000,
    mode: (raw.externalFileAttributes >>> 16) & 0o777,
    uncompressedSize: raw.uncompressedSize,
    open: () => new Promise((res, rej) => zip.openReadStream(raw, (err, s) => (err ? rej(err) : res(s)))),
    readStored: (maxBytes) => readStored(reader, raw, maxBytes),
  };
}

/** Calls `visit` for each entry in order, one at a time; rejects on a corrupt archive. */
export async function walkZip(path: string, visit: (entry: ZipEntry) => Promise<void>): Promise<void> {
  const zip = await openZip(path);
  const reader = new ArchiveReader(path);
  try {
    await new Promise<void>((res, rej) => {
      zip.on('error', rej);
      zip.on('end', () => res());
      zip.on('entry', (raw: yauzl.Entry) => {
        visit(describe(zip, raw, reader)).then(() => zip.readEntry(), rej);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
    await reader.close();
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
