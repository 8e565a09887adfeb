import { describe, expect, it } from 'vitest';

import { parseDotenv } from './dotenv.js';

describe('parseDotenv', () => {
  it.each([
    [
      'A=1\nB=two words\n',
      [
        { key: 'A', value: '1' },
        { key: 'B', value: 'two words' },
      ],
    ],
    ['# comment\nBAD KEY=x\n=nokey\nOK="quoted"\n', [{ key: 'OK', value: 'quoted' }]],
    ['WIN=1\r\n', [{ key: 'WIN', value: '1' }]],
  ])('%j', (text, expected) => {
    expect(parseDotenv(text)).toEqual(expected);
  });

  it('keeps at most 20 variables', () => {
    const text = Array.from({ length: 30 }, (_, i) => `V${i}=${i}`).join('\n');
    expect(parseDotenv(text)).toHaveLength(20);
  });
});
