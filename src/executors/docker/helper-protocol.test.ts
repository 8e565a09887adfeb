import { describe, expect, it } from 'vitest';

import {
  decodeRequest,
  encodeFrame,
  encodeRequest,
  FRAME_EXIT,
  FRAME_OUTPUT,
  FrameDecoder,
  FrameError,
} from './helper-protocol.js';
import type { HelperRequest } from './helper-request.js';

describe('helper protocol frames', () => {
  it('decodes output and exit frames split at every byte boundary', () => {
    const bytes = Buffer.concat([
      encodeFrame(FRAME_OUTPUT, 'Fetching changes...\n'),
      encodeFrame(FRAME_OUTPUT, Buffer.from([0xff, 0x00, 0x0a])),
      encodeFrame(FRAME_EXIT, '128'),
    ]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      expect(frames).toEqual([
        { type: 'output', data: Buffer.from('Fetching changes...\n') },
        { type: 'output', data: Buffer.from([0xff, 0x00, 0x0a]) },
        { type: 'exit', code: 128 },
      ]);
    }
  });

  it('refuses bytes that are not frames (an older helper printing its usage)', () => {
    expect(() => new FrameDecoder().push(Buffer.from('usage: flotilla-helper <…>\n'))).toThrow(FrameError);
  });

  it('refuses an exit frame that is not a number', () => {
    expect(() => new FrameDecoder().push(encodeFrame(FRAME_EXIT, '1x'))).toThrow(/bad exit code/);
  });

  it('sends a request as one line that decodes to the same request', () => {
    const request = { projectDir: '/builds/a\nb', tmpDir: '/builds/a.tmp' } as unknown as HelperRequest;
    const line = encodeRequest({ command: 'get-sources', request });
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(decodeRequest(line.trimEnd())).toEqual({ command: 'get-sources', request });
    expect(() => decodeRequest('{"command":"get-sources"}')).toThrow(/needs/);
  });
});
