/**
 * A tiny coordinator stand-in for the helper: job artifacts upload (multipart part `file`) and
 * download under /api/v4/jobs/:id/artifacts with a JOB-TOKEN, and a git repository over git's "dumb"
 * HTTP protocol (static files) under /repo.git/.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import path from 'node:path';

export interface ArtifactServer {
  url: string;
  artifacts: Map<number, Buffer>;
  uploads: { jobId: number; token: string; query: string }[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The bytes of the multipart part named `file`. */
function filePart(raw: Buffer, contentType: string): Buffer | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const marker = Buffer.from(`--${boundary?.[1] ?? boundary?.[2] ?? ''}`);
  let start = raw.indexOf(marker);
  while (start >= 0) {
    const headerEnd = raw.indexOf('\r\n\r\n', start);
    const next = raw.indexOf(marker, headerEnd);
    if (headerEnd < 0 || next < 0) return null;
    if (/name="file"/.test(raw.subarray(start, headerEnd).toString()))
      return raw.subarray(headerEnd + 4, next - 2);
    start = next;
  }
  return null;
}

export async function startArtifactServer(host: string, repoDir: string): Promise<ArtifactServer> {
  const artifacts = new Map<number, Buffer>();
  const uploads: ArtifactServer['uploads'] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/api\/v4\/jobs\/(\d+)\/artifacts$/.exec(url.pathname);
      if (m) {
        const jobId = Number(m[1]);
        const token = String(req.headers['job-token'] ?? '');
        if (!token.startsWith('glcbt-')) return res.writeHead(401).end();
        if (req.method === 'POST') {
          const part = filePart(await body(req), String(req.headers['content-type'] ?? ''));
          if (!part) return res.writeHead(400).end();
          artifacts.set(jobId, part);
          uploads.push({ jobId, token, query: url.search });
          return res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
        }
        const zip = artifacts.get(jobId);
        return zip
          ? res.writeHead(200, { 'content-type': 'application/zip' }).end(zip)
          : res.writeHead(404).end();
      }
      if (url.pathname.startsWith('/repo.git/')) {
        const file = path.join(repoDir, path.normalize(url.pathname.slice('/repo.git/'.length)));
        if (!file.startsWith(repoDir)) return res.writeHead(403).end();
        return readFile(file).then(
          (data) => res.writeHead(200).end(data),
          () => res.writeHead(404).end(),
        );
      }
      res.writeHead(404).end();
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host}:${port}`,
    artifacts,
    uploads,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
