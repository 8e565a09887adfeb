import type { Readable } from 'node:stream';

/** The header block a CGI program writes before its body. */
export interface CgiHead {
  status: number;
  headers: Array<[name: string, value: string]>;
}

/** Headers the HTTP server owns; a CGI program never decides the framing of our response. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'status']);

/**
 * Parses a CGI header block (without the blank line). `Status: 404 Not Found` sets the status
 * (default 200); `Location` without a status means 302. Throws on a line that is not a header.
 */
export function parseCgiHead(block: string): CgiHead {
  let status: number | null = null;
  const headers: CgiHead['headers'] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed CGI header line: ${JSON.stringify(line.slice(0, 100))}`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = parseStatus(value);
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push([name, value]);
  }
  const redirect = headers.some(([n]) => n.toLowerCase() === 'location');
  return { status: status ?? (redirect ? 302 : 200), headers };
}

function parseStatus(value: string): number {
  const code = Number(/^\d{3}/.exec(value)?.[0]);
  if (!Number.isInteger(code) || code < 100 || code > 599) {
    throw new Error(`malformed CGI Status header: ${JSON.stringify(value.slice(0, 100))}`);
  }
  return code;
}

/** Where the header block ends and the body starts (after `\r\n\r\n` or `\n\n`), or null. */
export function findHeadEnd(buffer: Buffer): { headEnd: number; bodyStart: number } | null {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return null;
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return { headEnd: crlf, bodyStart: crlf + 4 };
  return { headEnd: lf, bodyStart: lf + 2 };
}

export type CgiHeadCallback = (err: Error | null, head?: CgiHead, rest?: Buffer) => void;

/**
 * Reads a CGI header block from `stream` and calls back synchronously, with the stream paused and
 * any body bytes already read in `rest`, so the caller can write them and then `pipe` the stream.
 * Calls back with an error when the stream ends first, fails, or the block exceeds `limit` bytes.
 */
export function readCgiHead(stream: Readable, limit: number, callback: CgiHeadCallback): void {
  let buffered = Buffer.alloc(0);
  let settled = false;
  const settle = (err: Error | null, head?: CgiHead, rest?: Buffer): void => {
    if (settled) return;
    settled = true;
    stream.pause();
    stream.off('data', onData).off('end', onEnd).off('error', settle);
    callback(err, head, rest);
  };
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = findHeadEnd(buffered);
    if (end === null) {
      if (buffered.length > limit) settle(new Error(`CGI header block over ${limit} bytes`));
      return;
    }
    try {
      const head = parseCgiHead(buffered.subarray(0, end.headEnd).toString('latin1'));
      settle(null, head, buffered.subarray(end.bodyStart));
    } catch (err) {
      settle(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const onEnd = (): void => settle(new Error('CGI program ended before its headers'));
  stream.on('data', onData).on('end', onEnd).on('error', settle);
}
