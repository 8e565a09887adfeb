import { mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { createFakeClock } from '../../../test/kits/fake-clock.js';
import { silentLogger } from '../../shared/logger.js';
import type { LoadedConfig } from './load.js';
import { createConfigWatcher, fileMtimeMs } from './watch.js';

describe('config watcher', () => {
  it('swaps in a changed valid file on the next check and keeps the old one when invalid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flo-watch-'));
    const path = join(dir, 'config.toml');
    await writeFile(path, 'concurrent = 1\n');
    const clock = createFakeClock();
    const loaded: LoadedConfig[] = [];
    const rejected: unknown[] = [];
    const watcher = createConfigWatcher({
      path,
      clock,
      logger: silentLogger(),
      loadedMtimeMs: await fileMtimeMs(path),
      onLoaded: (l) => loaded.push(l),
      onRejected: (e) => rejected.push(e),
    });
    const loop = watcher.start();
    const tick = async (content: string, mtimeS: number): Promise<void> => {
      await writeFile(path, content);
      await utimes(path, mtimeS, mtimeS);
      const before = clock.sleeps.length;
      await clock.waitForSleepers();
      clock.advance(3000);
      while (clock.sleeps.length === before) await clock.waitForSleepers();
    };
    await tick('concurrent = 5\n', 1_000_000);
    expect(loaded.map((l) => l.config.concurrent)).toEqual([5]);
    await tick('concurrent = "x"\n', 1_000_100);
    expect(rejected).toHaveLength(1);
    await tick('concurrent = "x"\n', 1_000_100);
    expect(rejected).toHaveLength(1);
    expect(await watcher.reload(true)).toBe(false);
    expect(rejected).toHaveLength(2);
    watcher.stop();
    await loop;
  });
});
