import { EventEmitter } from 'node:events';

import { describe, expect, it } from 'vitest';

import { silentLogger } from '../shared/logger.js';
import { installSignalHandlers } from './signals.js';

function setup() {
  const source = new EventEmitter();
  const calls: string[] = [];
  const exits: number[] = [];
  let finish: () => void = () => undefined;
  const target = {
    stop: ({ graceful }: { graceful: boolean }) => {
      calls.push(graceful ? 'graceful' : 'forceful');
      return new Promise<void>((r) => (finish = r));
    },
    reload: async () => (calls.push('reload'), true),
  };
  const handlers = installSignalHandlers(target, {
    logger: silentLogger(),
    source,
    exit: (c) => exits.push(c),
  });
  return { source, calls, exits, handlers, finish: () => finish() };
}

describe('signal handlers', () => {
  it.each([
    [['SIGQUIT'], ['graceful'], []],
    [['SIGTERM'], ['forceful'], []],
    [['SIGINT'], ['forceful'], []],
    [['SIGQUIT', 'SIGTERM'], ['graceful', 'forceful'], []],
    [['SIGQUIT', 'SIGQUIT'], ['graceful'], [1]],
    [['SIGTERM', 'SIGINT'], ['forceful'], [1]],
    [['SIGHUP'], ['reload'], []],
  ])('%j → stops %j, exits %j', (signals, expectedCalls, expectedExits) => {
    const { source, calls, exits, handlers } = setup();
    for (const s of signals) source.emit(s);
    expect(calls).toEqual(expectedCalls);
    expect(exits).toEqual(expectedExits);
    handlers.dispose();
  });

  it('resolves stopped when the stop completes and removes its listeners on dispose', async () => {
    const { source, handlers, finish } = setup();
    source.emit('SIGQUIT');
    finish();
    await handlers.stopped;
    handlers.dispose();
    expect(source.listenerCount('SIGQUIT')).toBe(0);
  });
});
