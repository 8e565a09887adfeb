/**
 * The files inside an uploaded report artifact, as text, with a bound on the bytes decompressed.
 * Formats are the Runner API's `artifact_format`: `zip` (what our runner sends: every entry is a
 * file), `gzip` (what gitlab-runner sends for junit: one gzip member per file, concatenated) and
 * `raw` (one file).
 */
import { inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';

export class ReportTooLargeError extends Error {
  constructor(limit: number) {
    super(`the report is larger than ${limit} bytes once decompressed`);
    this.name = 'ReportTooLargeError';
  }
}

const GZIP_FLAGS = { extra: 4, name: 8, comment: 16, headerCrc: 2 } as const;

/** Offset of the deflate data of the gzip member starting at `start`. */
function gzipDataOffset(buf: Buffer, start: number): number {
  if (buf[start] !== 0x1f || buf[start + 1] !== 0x8b || buf[start + 2] !== 8) {
    throw new Error(`not a gzip member at byte ${start}`);
  }
  const flags = buf[start + 3] ?? 0;
  let pos = start + 10;
  if (flags & GZIP_FLAGS.extra) pos += 2 + buf.readUInt16LE(pos);
  for (const flag of [GZIP_FLAGS.name, GZIP_FLAGS.comment]) {
    if (!(flags & flag)) continue;
    const end = buf.indexOf(0, pos);
    if (end < 0) throw new Error('truncated gzip header');
    pos = end + 1;
  }
  if (flags & GZIP_FLAGS.headerCrc) pos += 2;
  return pos;
}

/** Each member of a (multi-member) gzip stream as its own file. */
export function gzipMembers(buf: Buffer, limit: number): Buffer[] {
  const out: Buffer[] = [];
  let total = 0;
  let pos = 0;
  while (pos < buf.length) {
    const data = gzipDataOffset(buf, pos);
    let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      const options = { info: true, maxOutputLength: limit - total + 1 };
      inflated = inflateRawSync(buf.subarray(data), options) as unknown as typeof inflated;
    } catch (err) {
      if (err instanceof RangeError) throw new ReportTooLargeError(limit);
      throw err;
    }
    total += inflated.buffer.length;
    if (total > limit) throw new ReportTooLargeError(limit);
    out.push(inflated.buffer);
    // The engine reports how many compressed bytes it consumed; the 8-byte trailer follows.
    pos = data + inflated.engine.bytesWritten + 8;
  }
  return out;
}

/** Every file entry of a zip, stopping with ReportTooLargeError past `limit` bytes in total. */
export function zipEntries(zip: Buffer, limit: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) {
        reject(err ?? new Error('unreadable zip'));
        return;
      }
      const out: Buffer[] = [];
      let total = 0;
      const fail = (e: Error): void => {
        file.close();
        reject(e);
      };
      file.on('error', reject);
      file.on('end', () => resolve(out));
      file.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          file.readEntry();
          return;
        }
        if (total + entry.uncompressedSize > limit) {
          fail(new ReportTooLargeError(limit));
          return;
        }
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) {
            fail(e ?? new Error('unreadable zip entry'));
            return;
          }
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => {
            total += c.length;
            if (total > limit) {
              stream.destroy();
              fail(new ReportTooLargeError(limit));
              return;
            }
            chunks.push(c);
          });
          stream.on('end', () => {
            out.push(Buffer.concat(chunks));
            file.readEntry();
          });
          stream.on('error', (se) => fail(se));
        });
      });
      file.readEntry();
    });
  });
}

/** The report's files as UTF-8 text. */
export async function reportFiles(format: string, data: Buffer, limit: number): Promise<string[]> {
  let files: Buffer[];
  if (format === 'zip') files = await zipEntries(data, limit);
  else if (format === 'gzip') files = gzipMembers(data, limit);
  else {
    if (data.length > limit) throw new ReportTooLargeError(limit);
    files = [data];
  }
  return files.map((f) => f.toString('utf8'));
}
