/**
 * Checks an uploaded zip archive before it is kept: entries that would land outside the folder a
 * dependent job extracts into (`..`, absolute paths, symlinks pointing out), duplicate names, and
 * archives that would expand far beyond their size (zip bombs) are refused with
 * FLO_ERR_ARTIFACT_UNSAFE naming the entry; an unreadable zip is a 400.
 */
import { unsafeEntryName, unsafeSymlinkTarget } from '../../shared/archive-paths.js';
import { FlotillaError, errorMessage } from '../../shared/errors.js';
import { readEntryText, walkZip, type ZipEntry } from '../../shared/zip-entries.js';

export interface ArchiveLimits {
  /** Sum of the entries' declared sizes. */
  maxExpandedBytes: number;
  maxEntries: number;
}

function refuse(message: string, entry?: string): FlotillaError {
  return new FlotillaError('FLO_ERR_ARTIFACT_UNSAFE', `400 artifacts archive refused: ${message}`, {
    details: entry === undefined ? {} : { entry },
  });
}

async function checkEntry(entry: ZipEntry, seen: Set<string>): Promise<void> {
  const badName = unsafeEntryName(entry.name);
  if (badName) throw refuse(`entry "${entry.name}" has ${badName}`, entry.name);
  const key = entry.name.replace(/\\/g, '/').replace(/\/+$/, '');
  if (seen.has(key)) throw refuse(`entry "${entry.name}" appears twice`, entry.name);
  seen.add(key);
  if (!entry.isSymlink) return;
  const badTarget = unsafeSymlinkTarget(entry.name, await readEntryText(entry));
  if (badTarget) throw refuse(`entry "${entry.name}" is ${badTarget}`, entry.name);
}

/** Resolves when the archive at `path` is safe to keep; throws the reason otherwise. */
export async function checkZipArchive(path: string, limits: ArchiveLimits): Promise<void> {
  const seen = new Set<string>();
  let expanded = 0;
  try {
    await walkZip(path, async (entry) => {
      await checkEntry(entry, seen);
      expanded += entry.uncompressedSize;
      if (seen.size > limits.maxEntries) throw refuse(`more than ${limits.maxEntries} entries`);
      if (expanded > limits.maxExpandedBytes)
        throw refuse(`it would expand to more than ${limits.maxExpandedBytes} bytes`);
    });
  } catch (err) {
    if (err instanceof FlotillaError) throw err;
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      `400 artifacts archive is not a readable zip: ${errorMessage(err)}`,
    );
  }
}
