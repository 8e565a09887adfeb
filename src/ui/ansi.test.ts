import { describe, expect, it } from 'vitest';

import { LogParser, type LogLine } from './ansi.js';

const text = (line: LogLine | null | undefined): string => line?.spans.map((s) => s.text).join('') ?? '';
const T1 = '2024-05-01T12:34:56.123456Z';
const T2 = '2024-05-01T12:34:57.000001Z';

describe('LogParser with runner timestamps', () => {
  it('takes the header off each line and keeps its time', () => {
    const p = new LogParser();
    p.push(`${T1} 00O hello\n${T2} 01E \x1b[31mred\x1b[0m\n`, 'received');
    expect(p.lines.map(text)).toEqual(['hello', 'red']);
    expect(p.lines.map((l) => l.time)).toEqual([T1, T2]);
    expect(p.lines[1]?.spans[0]?.classes).toBe('fg-31');
  });

  it('joins a continuation to the line before, showing the newest overwrite and time', () => {
    const p = new LogParser();
    p.push(`${T1} 00O progress 10%\r\n${T2} 00O+progress 20%\r\n`);
    expect(p.lines.map(text)).toEqual(['progress 20%']);
    expect(p.lines[0]?.time).toBe(T2);
    p.push(`${T2} 00O+done\n${T2} 00O next\n`);
    expect(p.lines.map(text)).toEqual(['done', 'next']);
  });

  it('keeps a space after the + flag as text', () => {
    const p = new LogParser();
    p.push(`${T1} 00O a\n${T1} 00O+ b\n`);
    expect(p.lines.map(text)).toEqual(['a b']);
  });

  it('parses a line cut between chunks and a header cut between chunks', () => {
    const p = new LogParser();
    const whole = `${T1} 00O section_start:1:build[collapsed=true]\r\x1b[0KBuilding\n${T1} 00O inside\n`;
    for (const piece of [whole.slice(0, 10), whole.slice(10, 40), whole.slice(40)]) p.push(piece);
    expect(p.lines[0]?.header).toEqual({ name: 'build', collapsed: true });
    expect(text(p.lines[0])).toBe('Building');
    expect(p.lines[1]?.section).toBe('build');
  });

  it('shows the unfinished line without its header', () => {
    const p = new LogParser();
    p.push(`${T1} 00O still typing`);
    expect(text(p.pendingLine())).toBe('still typing');
    expect(p.pendingLine()?.time).toBe(T1);
  });

  it('leaves a line without the exact header as text and uses the time it was received', () => {
    const p = new LogParser();
    p.push('2024-05-01T12:34:56.123Z 00O x\nplain\n', 'received');
    expect(p.lines.map(text)).toEqual(['2024-05-01T12:34:56.123Z 00O x', 'plain']);
    expect(p.lines[1]?.time).toBe('received');
  });
});
