import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildZip, type TestZipEntry } from '../../../test/kits/shared/zip-builder.js';
import { checkZipArchive } from './archive-check.js';

const LIMITS = { maxExpandedBytes: 1000, maxEntries: 5 };

async function zipFile(entries: TestZipEntry[] | Buffer): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'flo-check-')), 'a.zip');
  await writeFile(file, Buffer.isBuffer(entries) ? entries : await buildZip(entries));
  return file;
}

describe('checkZipArchive', () => {
  it('accepts files, folders and symlinks that stay inside', async () => {
    const file = await zipFile([
      { name: 'dist/app.js', data: 'js' },
      { name: 'dist/link', symlink: 'app.js' },
      { name: 'up', symlink: 'dist/../dist/app.js' },
    ]);
    await expect(checkZipArchive(file, LIMITS)).resolves.toBeUndefined();
  });

  it.each([
    [[{ name: '../evil' }], 'entry "../evil" has a ".." segment'],
    [[{ name: 'a/../../evil' }], 'entry "a/../../evil" has a ".." segment'],
    [[{ name: '/etc/cron.d/x' }], 'entry "/etc/cron.d/x" has an absolute path'],
    [[{ name: 'ln', symlink: '/etc/passwd' }], 'entry "ln" is a symlink to the absolute path "/etc/passwd"'],
    [[{ name: 'd/ln', symlink: '../../x' }], 'entry "d/ln" is a symlink to "../../x" outside the archive'],
    [[{ name: 'aa' }, { name: 'aa' }], 'entry "aa" appears twice'],
    [[{ name: 'big', data: 'x'.repeat(1001) }], 'it would expand to more than 1000 bytes'],
    [['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((name) => ({ name })), 'more than 5 entries'],
  ])('refuses %j with FLO_ERR_ARTIFACT_UNSAFE', async (entries, reason) => {
    const file = await zipFile(entries);
    await expect(checkZipArchive(file, LIMITS)).rejects.toMatchObject({
      code: 'FLO_ERR_ARTIFACT_UNSAFE',
      httpStatus: 400,
      message: `400 artifacts archive refused: ${reason}`,
    });
  });

  it('answers 400 for bytes that are not a zip', async () => {
    const file = await zipFile(Buffer.from('not a zip at all'));
    await expect(checkZipArchive(file, LIMITS)).rejects.toMatchObject({
      code: 'FLO_ERR_BAD_REQUEST',
      message: expect.stringContaining('not a readable zip'),
    });
  });
});
