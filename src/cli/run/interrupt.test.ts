import { EventEmitter } from 'node:events';

import { describe, expect, it } from 'vitest';

import { watchInterrupts } from './interrupt.js';

function source() {
  const emitter = new EventEmitter();
  return {
    emitter,
    on: (event: NodeJS.Signals, listener: () => void) => emitter.on(event, listener),
    off: (event: NodeJS.Signals, listener: () => void) => emitter.off(event, listener),
  };
}

describe('watchInterrupts', () => {
  it('resolves with the first stop signal and exits at once on the second', async () => {
    const s = source();
    const exits: number[] = [];
    const interruption = watchInterrupts(s, (code) => exits.push(code));
    s.emitter.emit('SIGTERM');
    expect(await interruption.signal).toBe('SIGTERM');
    expect(exits).toEqual([]);
    s.emitter.emit('SIGINT');
    expect(exits).toEqual([143]);
    expect(interruption.exitCode('SIGINT')).toBe(130);
  });

  it('stops listening when disposed', () => {
    const s = source();
    const interruption = watchInterrupts(s, () => undefined);
    expect(s.emitter.listenerCount('SIGINT')).toBe(1);
    interruption.dispose();
    expect(s.emitter.listenerCount('SIGINT')).toBe(0);
    expect(s.emitter.listenerCount('SIGTERM')).toBe(0);
  });
});
