import { describe, expect, it } from 'vitest';

import { createFakeClock, type FakeClock } from '../../../test/kits/fake-clock.js';
import { parseStampedLine, stripLogTimestamps, timestampHeader } from '../../shared/log-timestamps.js';
import { createJobTrace } from './job-trace.js';
import { createLinePrefixer, HOLD_BYTES } from './line-prefixer.js';

// 2023-11-14T22:13:20.000Z
const START = 1_700_000_000_000;
const at = (ms: number, flag = ' '): string =>
  `${new Date(START + ms).toISOString().slice(0, 23)}000Z 00O${flag}`;

function prefixer(clock: FakeClock = createFakeClock(START)) {
  const p = createLinePrefixer({ clock });
  const out: string[] = [];
  return {
    clock,
    write: (s: string | Buffer) => out.push(p.write(Buffer.from(s)).toString('utf8')),
    close: () => out.push(p.close().toString('utf8')),
    text: () => out.join(''),
  };
}

describe('timestamp header', () => {
  it('is gitlab-runner header: RFC 3339 UTC with microseconds, stream id, type, append flag', () => {
    expect(timestampHeader(new Date(START + 123), 0, 'O', false)).toBe('2023-11-14T22:13:20.123000Z 00O ');
    expect(timestampHeader(new Date(START), 0x1f, 'E', true)).toBe('2023-11-14T22:13:20.000000Z 1fE+');
    expect(parseStampedLine('2023-11-14T22:13:20.123000Z 01E+tail')).toEqual({
      time: '2023-11-14T22:13:20.123000Z',
      streamId: 1,
      type: 'E',
      append: true,
      content: 'tail',
    });
    // milliseconds only (3 digits) is not the runner's header
    expect(parseStampedLine('2023-11-14T22:13:20.123Z 00O x')).toBeNull();
  });
});

describe('line prefixer', () => {
  it('stamps each line with the time its first byte arrived, across writes', () => {
    const p = prefixer();
    p.write('one\ntw');
    p.clock.advance(1500);
    p.write('o\nthree\n');
    expect(p.text()).toBe(`${at(0)}one\n${at(0)}two\n${at(1500)}three\n`);
  });

  it('ignores an empty write: the next line gets one header', () => {
    const p = prefixer();
    p.write('');
    p.clock.advance(1500);
    p.write('one\n');
    expect(p.text()).toBe(`${at(1500)}one\n`);
  });

  it('sends a write with a carriage return at once and marks the next entry as its continuation', () => {
    const p = prefixer();
    p.write('progress 10%\r');
    p.clock.advance(1000);
    p.write('progress 20%\r');
    p.clock.advance(1000);
    p.write('done\n');
    expect(p.text()).toBe(`${at(0)}progress 10%\r\n${at(1000, '+')}progress 20%\r\n${at(2000, '+')}done\n`);
    expect(stripLogTimestamps(p.text())).toBe('progress 10%\rprogress 20%\rdone\n');
  });

  it('releases a held partial line with the carriage return write that follows it', () => {
    const p = prefixer();
    p.write('held ');
    p.clock.advance(10);
    p.write('and 50%\r');
    expect(p.text()).toBe(`${at(0)}held and 50%\r\n`);
  });

  it('keeps ANSI escapes and section markers as they are, after the header', () => {
    const p = prefixer();
    const marker = 'section_start:1700000000:step_script\r\x1b[0K\x1b[36;1mExecuting\x1b[0;m\n';
    p.write(marker);
    p.write('\x1b[32mgreen\x1b[0m\n');
    expect(p.text()).toBe(`${at(0)}${marker}${at(0)}\x1b[32mgreen\x1b[0m\n`);
  });

  it('cuts a line longer than the hold buffer into continued entries', () => {
    const p = prefixer();
    const long = 'x'.repeat(HOLD_BYTES);
    p.write(long);
    expect(p.text()).toBe('');
    p.write('yz');
    p.write('end\n');
    expect(p.text()).toBe(`${at(0)}${long}yz\n${at(0, '+')}end\n`);
    expect(stripLogTimestamps(p.text())).toBe(`${long}yzend\n`);
  });

  it('ends a held line with a newline on close, and closes empty when nothing is held', () => {
    const p = prefixer();
    p.write('no newline');
    p.close();
    p.close();
    expect(p.text()).toBe(`${at(0)}no newline\n`);
  });

  it('does not split a UTF-8 character: only whole lines and held bytes are sent', () => {
    const p = prefixer();
    const bytes = Buffer.from('héllo\n');
    p.write(bytes.subarray(0, 2));
    p.write(bytes.subarray(2));
    expect(p.text()).toBe(`${at(0)}héllo\n`);
  });
});

describe('job trace with timestamps', () => {
  const options = (clock = createFakeClock(START)) => ({
    secrets: ['hunter22'],
    tokenPrefixes: ['glpat-'],
    limitBytes: 1024,
    timestamps: { clock },
  });

  it('masks a secret split across writes and lines before stamping, at every split point', () => {
    const text = 'pw=hunter22 token glpat-abcdefgh12\nnext hunter22\n';
    for (let cut = 1; cut < text.length; cut++) {
      const trace = createJobTrace(options());
      trace.write(text.slice(0, cut));
      trace.write(text.slice(cut));
      trace.finish();
      const stored = trace.text();
      expect(stored, `cut at ${cut}`).not.toContain('hunter');
      expect(stored).not.toContain('abcdefgh12');
      expect(stripLogTimestamps(stored)).toBe('pw=[MASKED] token glpat-[MASKED]\nnext [MASKED]\n');
      expect(
        stored
          .split('\n')
          .filter(Boolean)
          .every((l) => parseStampedLine(l) !== null),
      ).toBe(true);
    }
  });

  it('masks a secret held at the end of the log and ends the last line', () => {
    const trace = createJobTrace(options());
    trace.write('tail hunter2');
    trace.write('2');
    trace.finish();
    expect(trace.text()).toBe(`${at(0)}tail [MASKED]\n`);
  });

  it('stamps the output limit notice too', () => {
    // each line is 32 bytes of header and 11 of text: the limit cuts the second after "01234"
    const trace = createJobTrace({ ...options(), limitBytes: 80 });
    trace.write('0123456789\n0123456789\n');
    trace.finish();
    const lines = trace.text().split('\n');
    expect(lines[1]).toBe(`${at(0)}01234`);
    // eslint-disable-next-line no-control-regex
    expect(lines[2]).toMatch(/^\S+Z 00O \x1b\[33;1mJob's log exceeded limit of 80 bytes\.$/);
    expect(parseStampedLine(lines[3] ?? '')?.content).toBe(
      'Job execution will continue but no more output will be collected.\x1b[0;m',
    );
  });

  it('writes no headers without the option', () => {
    const trace = createJobTrace({ ...options(), timestamps: undefined });
    trace.write('plain\n');
    trace.finish();
    expect(trace.text()).toBe('plain\n');
  });
});
