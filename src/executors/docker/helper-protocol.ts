/**
 * The wire format between the runner and a helper container's long-lived `serve` process, over the
 * container's attached standard streams (no `docker exec`, no new Node process per stage):
 * - runner → helper (stdin): one request per line, `{"command":"get-sources","request":{…}}\n`
 *   (JSON.stringify never emits a raw newline). The job token travels here, never in argv or env.
 * - helper → runner (stdout): frames of a 5-byte header (type, then the payload's length as a
 *   big-endian uint32) and the payload: OUTPUT (job log bytes) any number of times, then one EXIT
 *   whose payload is the stage's exit code in ASCII. Requests are served one at a time, in order.
 */
import type { HelperCommand, HelperRequest } from './helper-request.js';

export const FRAME_OUTPUT = 1;
export const FRAME_EXIT = 2;
const HEADER = 5;

export interface ServeRequest {
  command: HelperCommand;
  request: HelperRequest;
}

export function encodeRequest(request: ServeRequest): string {
  return `${JSON.stringify(request)}\n`;
}

export function encodeFrame(type: typeof FRAME_OUTPUT | typeof FRAME_EXIT, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(HEADER);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

export type Frame = { type: 'output'; data: Buffer } | { type: 'exit'; code: number };

/** A malformed frame: the stream is not the helper's (an older helper image, a crash message). */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Splits a byte stream (arbitrary chunk boundaries) into frames. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER) {
      const type = this.pending.readUInt8(0);
      const size = this.pending.readUInt32BE(1);
      if (type !== FRAME_OUTPUT && type !== FRAME_EXIT)
        throw new FrameError(
          `unexpected helper output: ${JSON.stringify(this.pending.subarray(0, 40).toString())}`,
        );
      if (this.pending.length < HEADER + size) break;
      const payload = this.pending.subarray(HEADER, HEADER + size);
      this.pending = this.pending.subarray(HEADER + size);
      if (type === FRAME_OUTPUT) frames.push({ type: 'output', data: Buffer.from(payload) });
      else frames.push({ type: 'exit', code: exitCodeOf(payload.toString('ascii')) });
    }
    return frames;
  }
}

function exitCodeOf(text: string): number {
  const code = Number.parseInt(text, 10);
  if (!Number.isInteger(code) || String(code) !== text) throw new FrameError(`bad exit code frame "${text}"`);
  return code;
}

/** Parses one request line (the helper's side); throws on anything else. */
export function decodeRequest(line: string): ServeRequest {
  const parsed = JSON.parse(line) as Partial<ServeRequest> | null;
  if (!parsed || typeof parsed.command !== 'string' || typeof parsed.request !== 'object' || !parsed.request)
    throw new Error('a helper request needs "command" and "request"');
  return parsed as ServeRequest;
}
