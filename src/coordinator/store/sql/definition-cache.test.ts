import { describe, expect, it } from 'vitest';

import { DefinitionCache } from './definition-cache.js';

const text = (script: string): string => JSON.stringify({ script: [script], needs: null, variables: [] });

describe('DefinitionCache', () => {
  it('parses a job definition once and hands out the same object while the text is the same', () => {
    const cache = new DefinitionCache();
    const first = cache.get(1, text('echo a'));
    const again = cache.get(1, text('echo a'));
    expect(again).toBe(first);
    expect(first).toEqual({ script: ['echo a'], needs: null, variables: [] });
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it('parses again when the stored text differs (another store with the same job id)', () => {
    const cache = new DefinitionCache();
    const a = cache.get(1, text('echo a'));
    const b = cache.get(1, text('echo b'));
    expect(b).not.toBe(a);
    expect(b).toEqual({ script: ['echo b'], needs: null, variables: [] });
    expect(cache.get(1, text('echo b'))).toBe(b);
  });

  it('deep-freezes what it shares, so a change throws instead of reaching other records', () => {
    const cache = new DefinitionCache();
    const def = cache.get(1, text('echo a')) as unknown as { script: string[]; extra?: number };
    expect(Object.isFrozen(def)).toBe(true);
    expect(Object.isFrozen(def.script)).toBe(true);
    expect(() => def.script.push('echo b')).toThrow(TypeError);
    expect(() => {
      def.extra = 1;
    }).toThrow(TypeError);
  });

  it('keeps at most its bound, dropping the oldest entry first', () => {
    const cache = new DefinitionCache(2);
    const one = cache.get(1, text('1'));
    cache.get(2, text('2'));
    cache.get(3, text('3'));
    expect(cache.stats().size).toBe(2);
    expect(cache.get(1, text('1'))).not.toBe(one);
    expect(() => new DefinitionCache(0)).toThrow(RangeError);
  });
});
