/**
 * The shell executor's launchers for tests that run the same cases with each: `describe.each` over
 * LAUNCHERS, and `useLauncher(kind)` in the block gives the launcher of that block (undefined for
 * the direct launcher, the executor's default). Used by tests only.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll } from 'vitest';

import type { Launcher } from '../../../src/executors/shell/launcher.js';
import { startZygote, type Zygote } from '../../../src/executors/shell/zygote.js';

export const LAUNCHERS = [['direct launcher'], ['zygote']] as const;

/** Starts a zygote for the block when `kind` says so; `current()` is the block's launcher. */
export function useLauncher(kind: string): { current(): Launcher | undefined } {
  let zygote: Zygote | undefined;
  beforeAll(async () => {
    if (kind === 'zygote') zygote = startZygote(join(await mkdtemp(join(tmpdir(), 'flo-launcher-')), 'z'));
  });
  afterAll(() => zygote?.close());
  return { current: () => zygote };
}
