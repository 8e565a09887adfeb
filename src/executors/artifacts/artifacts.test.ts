import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { afterEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';

import { buildZip } from '../../../test/kits/shared/zip-builder.js';
import { walkZip } from '../../shared/zip-entries.js';
import { jobPayload, memoryOutput } from '../../../test/kits/executors/job-fixture.js';
import { multipartFileBody } from './client.js';
import { collectArtifactFiles } from './collect.js';
import { globToRegExp, matchesAny } from './glob.js';
import { downloadDependencies, uploadArtifacts } from './stages.js';
import { extractZip, safeEntryPath, writeZip } from './zip.js';

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'flo-art-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

describe('artifact globs', () => {
  it.each([
    ['out/', 'out/a/b.txt', true],
    ['out', 'outside.txt', false],
    ['*.log', 'x.log', true],
    ['*.log', 'dir/x.log', false],
    ['**/*.log', 'dir/sub/x.log', true],
    ['**/*.log', 'x.log', true],
    ['./dist/*.js', 'dist/a.js', true],
    ['dist/?.js', 'dist/ab.js', false],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(matchesAny(path, [globToRegExp(pattern)])).toBe(expected);
  });
});

describe('artifact archives', () => {
  it('round-trips the selected files through zip, honouring exclude', async () => {
    const root = await tree({
      'out/a.txt': 'A',
      'out/tmp/t.txt': 'T',
      'out/sub/b.bin': 'B',
      'src/c.ts': 'C',
    });
    const files = await collectArtifactFiles(root, {
      paths: ['out/'],
      exclude: ['out/tmp'],
      untracked: false,
    });
    expect(files).toEqual(['out/a.txt', 'out/sub/b.bin']);
    const zip = join(await mkdtemp(join(tmpdir(), 'flo-zip-')), 'a.zip');
    await writeZip(root, files, zip);
    const dest = await mkdtemp(join(tmpdir(), 'flo-dest-'));
    expect(await extractZip(zip, dest)).toEqual(files);
    expect(await readFile(join(dest, 'out/sub/b.bin'), 'utf8')).toBe('B');
    expect(existsSync(join(dest, 'out/tmp/t.txt'))).toBe(false);
  });

  it('stores entries undeflated when asked, in a zip that extracts the same', async () => {
    const text = 'flotilla '.repeat(2000);
    const root = await tree({ 'out/a.txt': text, 'out/b.txt': 'B' });
    const dir = await mkdtemp(join(tmpdir(), 'flo-zip-'));
    await writeZip(root, ['out/a.txt', 'out/b.txt'], join(dir, 'deflated.zip'));
    await writeZip(root, ['out/a.txt', 'out/b.txt'], join(dir, 'stored.zip'), { compress: false });
    const stored = await readFile(join(dir, 'stored.zip'));
    expect(stored.length).toBeGreaterThan(text.length);
    expect((await readFile(join(dir, 'deflated.zip'))).length).toBeLessThan(text.length / 10);
    // compression method 0 (stored) in the first local file header
    expect(stored.readUInt16LE(8)).toBe(0);
    const dest = await mkdtemp(join(tmpdir(), 'flo-dest-'));
    expect(await extractZip(join(dir, 'stored.zip'), dest)).toEqual(['out/a.txt', 'out/b.txt']);
    expect(await readFile(join(dest, 'out/a.txt'), 'utf8')).toBe(text);
  });

  it('writes stored archives with the entries yazl writes (names, modes, times, data)', async () => {
    const root = await tree({ 'out/a.txt': 'A'.repeat(70_000), 'out/sub/é.txt': 'é', 'empty.txt': '' });
    await chmod(join(root, 'out/a.txt'), 0o755);
    const files = ['empty.txt', 'out/a.txt', 'out/sub/é.txt'];
    const dir = await mkdtemp(join(tmpdir(), 'flo-zip-'));
    await writeZip(root, files, join(dir, 'fast.zip'), { compress: false });
    const reference = new yazl.ZipFile();
    for (const f of files) reference.addFile(join(root, f), f, { compress: false });
    reference.end();
    await pipeline(reference.outputStream, createWriteStream(join(dir, 'yazl.zip')));
    const entries = async (file: string) => {
      const out: unknown[] = [];
      await walkZip(join(dir, file), async (e) => {
        const data = await e.readStored(1 << 20);
        out.push({ name: e.name, mode: e.mode, size: e.uncompressedSize, data: data?.toString('utf8') });
      });
      return out;
    };
    expect(await entries('fast.zip')).toEqual(await entries('yazl.zip'));
    const header = (await readFile(join(dir, 'fast.zip'))).subarray(0, 30);
    const yazlHeader = (await readFile(join(dir, 'yazl.zip'))).subarray(0, 30);
    // the same local header but for the sizes and CRC, known up front (no data descriptor)
    expect(header.readUInt16LE(4)).toBe(yazlHeader.readUInt16LE(4));
    expect(header.readUInt16LE(6)).toBe(yazlHeader.readUInt16LE(6) & ~(1 << 3));
    expect(header.subarray(8, 14)).toEqual(yazlHeader.subarray(8, 14));
    const dest = await mkdtemp(join(tmpdir(), 'flo-dest-'));
    expect(await extractZip(join(dir, 'fast.zip'), dest)).toEqual(files);
    expect(((await stat(join(dest, 'out/a.txt'))).mode & 0o777).toString(8)).toBe('755');
    expect(await readFile(join(dest, 'out/sub/é.txt'), 'utf8')).toBe('é');
  });

  it('refuses to store what is not a regular file, as yazl does', async () => {
    const root = await tree({ 'a.txt': 'A' });
    await mkdir(join(root, 'dir'));
    const dir = await mkdtemp(join(tmpdir(), 'flo-zip-'));
    await expect(writeZip(root, ['a.txt', 'dir'], join(dir, 'x.zip'), { compress: false })).rejects.toThrow(
      /not a file/,
    );
  });

  it('names stored entries as yazl does: backslashes become slashes', async () => {
    const root = await tree({ 'a\\b.txt': 'B', 'ok.txt': 'O' });
    const dir = await mkdtemp(join(tmpdir(), 'flo-zip-'));
    const names = async (compress: boolean) => {
      const file = join(dir, `${compress}.zip`);
      await writeZip(root, ['ok.txt', 'a\\b.txt'], file, { compress });
      const out: string[] = [];
      await walkZip(file, async (e) => void out.push(e.name));
      return out;
    };
    expect(await names(false)).toEqual(['ok.txt', 'a/b.txt']);
    expect(await names(true)).toEqual(['ok.txt', 'a/b.txt']);
  });

  it.each(['../outside.txt', 'sub/../../outside.txt', 'C:outside.txt', '', 'sub/'])(
    'refuses to name an entry %j, stored or deflated, as yazl does',
    async (name) => {
      const parent = await tree({ 'outside.txt': 'X', 'root/C:outside.txt': 'C', 'root/sub/f': 'F' });
      const root = join(parent, 'root');
      const dir = await mkdtemp(join(tmpdir(), 'flo-zip-'));
      const deflated = writeZip(root, ['sub/f', name], join(dir, 'd.zip'));
      const stored = writeZip(root, ['sub/f', name], join(dir, 's.zip'), { compress: false });
      const reason = await deflated.then(
        () => null,
        (e: Error) => e.message,
      );
      expect(reason).not.toBeNull();
      await expect(stored).rejects.toThrow(reason ?? '');
    },
  );

  it('refuses an absolute entry name, stored or deflated', async () => {
    const outside = await tree({ 'x.txt': 'X' });
    const root = await tree({});
    const dir = await mkdtemp(join(tmpdir(), 'flo-zip-'));
    const name = join(outside, 'x.txt');
    await expect(writeZip(root, [name], join(dir, 'd.zip'))).rejects.toThrow(/absolute path/);
    await expect(writeZip(root, [name], join(dir, 's.zip'), { compress: false })).rejects.toThrow(
      /absolute path/,
    );
  });

  it.each(['../evil.txt', '/etc/evil', 'a/../../evil', 'C:/evil'])('refuses the entry path %s', (name) => {
    expect(safeEntryPath('/tmp/root', name)).toBeNull();
  });

  it('skips entries that would land outside the destination and extracts the rest', async () => {
    const base = await mkdtemp(join(tmpdir(), 'flo-dest-'));
    const dest = join(base, 'inner');
    await mkdir(dest);
    const zip = join(base, 'bad.zip');
    await writeFile(
      zip,
      await buildZip([
        { name: '../evil.txt', data: 'x' },
        { name: '/tmp/abs-evil.txt', data: 'x' },
        { name: 'out', symlink: '..' },
        { name: 'etc', symlink: '/etc' },
        { name: 'ok.txt', data: 'fine' },
        { name: 'ok.txt', data: 'second' },
        { name: 'sub/up', symlink: '..' },
        { name: 'sub/up/inside.txt', data: 'in' },
      ]),
    );
    const skipped: string[] = [];
    const written = await extractZip(zip, dest, {
      onSkip: (name, reason) => skipped.push(`${name}: ${reason}`),
    });
    expect(written).toEqual(['ok.txt', 'sub/up', 'sub/up/inside.txt']);
    expect(skipped).toEqual([
      '../evil.txt: its name has a ".." segment',
      '/tmp/abs-evil.txt: its name has an absolute path',
      'out: it is a symlink to "..", outside the destination',
      'etc: it is a symlink to "/etc", outside the destination',
      'ok.txt: the name appears earlier in the archive',
    ]);
    expect(existsSync(join(base, 'evil.txt'))).toBe(false);
    expect(existsSync('/tmp/abs-evil.txt')).toBe(false);
    expect(await readFile(join(dest, 'ok.txt'), 'utf8')).toBe('fine');
    expect(await readFile(join(dest, 'inside.txt'), 'utf8')).toBe('in');
  });

  it('never writes through a symlink chain that leads out', async () => {
    const base = await mkdtemp(join(tmpdir(), 'flo-dest-'));
    const dest = join(base, 'inner');
    const zip = join(base, 'chain.zip');
    await writeFile(
      zip,
      await buildZip([
        { name: 'a/b/up', symlink: '..' },
        { name: 'a/b/l', symlink: 'up/../../..' },
        { name: 'a/b/l/escaped.txt', data: 'x' },
        { name: 'a/b/m', symlink: 'up/../../../newdir' },
        { name: 'nn', symlink: 'missing' },
        { name: 'nn/x.txt', data: 'x' },
      ]),
    );
    const skipped: string[] = [];
    await extractZip(zip, dest, { onSkip: (name) => skipped.push(name) });
    expect(skipped).toEqual(['a/b/l', 'a/b/m', 'nn/x.txt']);
    expect(existsSync(join(base, 'escaped.txt'))).toBe(false);
    expect(await readFile(join(dest, 'a/b/l/escaped.txt'), 'utf8')).toBe('x');
  });
});

interface Upload {
  url: string;
  token: string | undefined;
  body: Buffer;
  contentType: string | undefined;
}

let server: Server | undefined;
afterEach(() => server?.close());

function read(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((res) => {
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res(Buffer.concat(chunks)));
  });
}

async function fakeCoordinator(
  zipToServe: Buffer,
): Promise<{ baseUrl: string; uploads: Upload[]; downloads: string[] }> {
  const uploads: Upload[] = [];
  const downloads: string[] = [];
  server = createServer((req, res) => {
    void read(req).then((body) => {
      const token = req.headers['job-token'] as string | undefined;
      if (req.method === 'POST') {
        uploads.push({ url: req.url ?? '', token, body, contentType: req.headers['content-type'] });
        res.writeHead(201).end('201');
      } else {
        downloads.push(`${req.url ?? ''} ${token ?? ''}`);
        res.writeHead(200, { 'content-type': 'application/zip' }).end(zipToServe);
      }
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, uploads, downloads };
}

describe('artifact stages over HTTP', () => {
  it('uploads a zip as multipart "file" with the job token and downloads dependencies', async () => {
    const source = await tree({ 'dist/app.js': 'js' });
    const depZip = join(source, 'dep.zip');
    await writeZip(source, ['dist/app.js'], depZip);
    const coordinator = await fakeCoordinator(await readFile(depZip));
    const payload = jobPayload({
      artifacts: [
        {
          name: 'artifacts',
          untracked: false,
          paths: ['dist/'],
          exclude: [],
          when: 'on_success',
          expire_in: '7d',
          artifact_type: 'archive',
          artifact_format: 'zip',
        },
      ],
      dependencies: [
        {
          id: 9,
          name: 'build',
          token: 'glcbt-deptoken',
          artifacts_file: { filename: 'artifacts.zip', size: 1 },
        },
      ],
    });
    const projectDir = await mkdtemp(join(tmpdir(), 'flo-proj-'));
    const tmpDir = await mkdtemp(join(tmpdir(), 'flo-tmp-'));
    const output = memoryOutput();
    const options = { payload, baseUrl: coordinator.baseUrl, projectDir, tmpDir, output };
    expect(await downloadDependencies(options)).toBe(0);
    expect(coordinator.downloads).toEqual(['/api/v4/jobs/9/artifacts glcbt-deptoken']);
    expect(await readFile(join(projectDir, 'dist/app.js'), 'utf8')).toBe('js');
    expect(await uploadArtifacts(options, 'success')).toBe(0);
    const upload = coordinator.uploads[0];
    expect(upload?.url).toBe(
      '/api/v4/jobs/42/artifacts?artifact_format=zip&artifact_type=archive&expire_in=7d',
    );
    expect(upload?.token).toBe('glcbt-jobtoken123456');
    expect(upload?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload?.body.toString('latin1')).toContain('name="file"; filename="artifacts.zip"');
    expect(await uploadArtifacts(options, 'failed')).toBe(0);
    expect(coordinator.uploads).toHaveLength(1);
  });

  it('sends the same multipart bytes with bufferUploads as FormData does', async () => {
    const source = await tree({ 'dist/app.js': 'js', 'dist/b"q\nx.txt': 'odd name' });
    const coordinator = await fakeCoordinator(Buffer.alloc(0));
    const spec = {
      name: 'my "art"',
      untracked: false,
      paths: ['dist/'],
      exclude: [],
      when: 'on_success' as const,
      expire_in: null,
      artifact_type: 'archive',
      artifact_format: 'zip' as const,
    };
    const payload = jobPayload({ artifacts: [spec] });
    const tmpDir = await mkdtemp(join(tmpdir(), 'flo-tmp-'));
    const base = {
      payload,
      baseUrl: coordinator.baseUrl,
      projectDir: source,
      tmpDir,
      output: memoryOutput(),
    };
    expect(await uploadArtifacts({ ...base, compress: false }, 'success')).toBe(0);
    expect(await uploadArtifacts({ ...base, compress: false, bufferUploads: true }, 'success')).toBe(0);
    const [streamed, buffered] = coordinator.uploads;
    expect(buffered?.url).toBe(streamed?.url);
    expect(buffered?.token).toBe(streamed?.token);
    const boundary = (u: typeof streamed): string => /boundary=(.+)$/.exec(u?.contentType ?? '')?.[1] ?? '';
    const normal = (u: typeof streamed): string => u!.body.toString('latin1').split(boundary(u)).join('B');
    expect(normal(buffered).replace(/\r\n\r\n[^]*\r\n--B--/, '')).toBe(
      normal(streamed).replace(/\r\n\r\n[^]*\r\n--B--/, ''),
    );
    expect(normal(buffered)).toContain('filename="my %22art%22.zip"');
  });

  it('builds a multipart body byte for byte as FormData encodes it', async () => {
    for (const name of ['artifacts.zip', 'a"b\r\nc.zip', 'é ü.zip']) {
      const content = Buffer.from([0, 1, 2, 13, 10, 45, 45, 255]);
      const form = new FormData();
      form.append('file', new Blob([content]), name);
      const req = new Request('http://x/', { method: 'POST', body: form });
      const boundary = /boundary=(.+)$/.exec(req.headers.get('content-type') ?? '')?.[1] ?? '';
      expect(multipartFileBody(boundary, name, content)).toEqual(Buffer.from(await req.arrayBuffer()));
    }
  });
});
