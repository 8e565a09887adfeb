import { describe, expect, it } from 'vitest';

import { JobLogCursor, cleanLogLine } from './log-stream.js';

describe('JobLogCursor', () => {
  it('returns only complete new lines and keeps the partial one', () => {
    const c = new JobLogCursor();
    expect(c.advance(Buffer.from('one\ntw'))).toEqual(['one']);
    expect(c.advance(Buffer.from('one\ntwo\nthree'))).toEqual(['two']);
    expect(c.advance(Buffer.from('one\ntwo\nthree'))).toEqual([]);
    expect(c.flush()).toEqual(['three']);
  });

  it('does not split a multi-byte character cut between two reads', () => {
    const c = new JobLogCursor();
    const text = Buffer.from('héllo\n');
    expect(c.advance(text.subarray(0, 2))).toEqual([]);
    expect(c.advance(text)).toEqual(['héllo']);
  });
});

describe('cleanLogLine', () => {
  it.each([
    [
      'section_start:1700000000:get_sources\r\x1b[0K\x1b[36;1mGetting source\x1b[0;m',
      '\x1b[36;1mGetting source\x1b[0;m',
    ],
    ['section_end:1700000000:get_sources\r\x1b[0K', ''],
    ['plain\r', 'plain'],
    ['2024-05-01T12:34:56.123456Z 00O hello', 'hello'],
    ['2024-05-01T12:34:56.123456Z 01E+progress 20%\r', 'progress 20%'],
    [
      '2024-05-01T12:34:56.123456Z 00O section_start:1700000000:get_sources\r\x1b[0K\x1b[36;1mGetting source\x1b[0;m',
      '\x1b[36;1mGetting source\x1b[0;m',
    ],
    [
      '2024-05-01T12:34:56.123Z 00O not the runner header',
      '2024-05-01T12:34:56.123Z 00O not the runner header',
    ],
  ])('cleans %j', (input, expected) => {
    expect(cleanLogLine(input)).toBe(expected);
  });
});
