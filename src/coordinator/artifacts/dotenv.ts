/**
 * `artifacts:reports:dotenv`: the variables a job exports to later jobs. The report arrives as a
 * zip (one dotenv file); GitLab's limits apply: 20 variables, 5 KiB, `KEY=VALUE` lines.
 */
import yauzl from 'yauzl';

const MAX_BYTES = 5 * 1024;
const MAX_VARIABLES = 20;
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses dotenv text; invalid lines are skipped, as GitLab drops them. */
export function parseDotenv(text: string): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const raw of text.slice(0, MAX_BYTES).split('\n')) {
    const line = raw.replace(/\r$/, '');
    const i = line.indexOf('=');
    if (i <= 0 || line.trimStart().startsWith('#')) continue;
    const key = line.slice(0, i).trim();
    if (!KEY_RE.test(key)) continue;
    let value = line.slice(i + 1);
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    out.push({ key, value });
    if (out.length >= MAX_VARIABLES) break;
  }
  return out;
}

/** The text of the first file in a zip held in memory (null when there is none). */
export function firstFileOfZip(zip: Buffer): Promise<string | null> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) {
        reject(err ?? new Error('bad zip'));
        return;
      }
      file.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) {
          file.readEntry();
          return;
        }
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) {
            reject(e ?? new Error('unreadable entry'));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_BYTES) chunks.push(c);
          });
          stream.on('end', () => {
            file.close();
            resolve(Buffer.concat(chunks).toString('utf8'));
          });
          stream.on('error', reject);
        });
      });
      file.on('end', () => resolve(null));
      file.readEntry();
    });
  });
}
