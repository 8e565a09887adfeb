/**
 * Builds zip archives for tests, hostile ones included: yazl refuses `..` and absolute names, so each
 * entry with such a name is written under a placeholder of the same length that is then replaced in
 * the bytes.
 */
import yazl from 'yazl';

export interface TestZipEntry {
  name: string;
  /** File content (default empty). */
  data?: string;
  /** Makes the entry a symlink to this target. */
  symlink?: string;
}

function placeholder(index: number, name: string): string {
  const length = Buffer.byteLength(name);
  if (!/^[/\\]|(^|[/\\])\.\.([/\\]|$)|\\/.test(name) && !name.endsWith('/')) return name;
  const tag = `Z${index}`;
  if (length < tag.length) throw new Error(`test zip entry names need at least ${tag.length} bytes`);
  return tag + 'Z'.repeat(length - tag.length);
}

export async function buildZip(entries: readonly TestZipEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const names = entries.map((e, i) => placeholder(i, e.name));
  entries.forEach((entry, i) => {
    const data = Buffer.from(entry.symlink ?? entry.data ?? '');
    const mode = entry.symlink === undefined ? 0o100644 : 0o120777;
    zip.addBuffer(data, names[i] ?? '', { mode, compress: false });
  });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  let text = Buffer.concat(chunks).toString('latin1');
  entries.forEach((entry, i) => {
    if (names[i] !== entry.name)
      text = text.replaceAll(names[i] ?? '', Buffer.from(entry.name).toString('latin1'));
  });
  return Buffer.from(text, 'latin1');
}
