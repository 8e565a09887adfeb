/** Git's pkt-line framing (gitprotocol-common): a 4-hex-digit length, then the payload. */

/** One parsed pkt-line: a payload, or one of the special packets. */
export type PktLine = { kind: 'data'; payload: Buffer } | { kind: 'flush' | 'delim' | 'response-end' };

const SPECIAL: Record<number, 'flush' | 'delim' | 'response-end'> = {
  0: 'flush',
  1: 'delim',
  2: 'response-end',
};

/** Largest pkt-line git writes or accepts, length prefix included. */
export const MAX_PKT_LENGTH = 65520;

/** A data pkt-line holding `payload` (a string is written as UTF-8). */
export function pktLine(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const length = body.length + 4;
  if (length > MAX_PKT_LENGTH) throw new RangeError(`pkt-line too long (${length} bytes)`);
  return Buffer.concat([Buffer.from(length.toString(16).padStart(4, '0'), 'ascii'), body]);
}

export const FLUSH_PKT = Buffer.from('0000', 'ascii');

/**
 * Splits `data` into pkt-lines. Answers null when the data is not a whole, well-formed sequence
 * (a bad length, a reserved length 3, or a packet cut off at the end).
 */
export function parsePktLines(data: Buffer): PktLine[] | null {
  const lines: PktLine[] = [];
  let at = 0;
  while (at < data.length) {
    const length = pktLength(data, at);
    if (length === null) return null;
    const special = SPECIAL[length];
    if (special !== undefined) {
      lines.push({ kind: special });
      at += 4;
      continue;
    }
    if (length < 4 || at + length > data.length) return null;
    lines.push({ kind: 'data', payload: data.subarray(at + 4, at + length) });
    at += length;
  }
  return lines;
}

/** The length of the pkt-line at `at`, or null when the 4 bytes there are not a length. */
export function pktLength(data: Buffer, at: number): number | null {
  if (at + 4 > data.length) return null;
  const hex = data.toString('ascii', at, at + 4);
  return /^[0-9a-f]{4}$/.test(hex) ? parseInt(hex, 16) : null;
}

/** A data line's text without its one trailing newline, as git's reader chomps it. */
export function chompedText(payload: Buffer): string {
  const text = payload.toString('utf8');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
