/**
 * Hot reload of config.toml: the file's mtime is checked every `intervalMs` (3 s like gitlab-runner)
 * and `reload()` forces a check (SIGHUP). Only a valid config is swapped in; an invalid one is
 * rejected (logged with the reason) and the old config stays. A rejected file is not re-read until
 * its mtime changes again.
 */
import { stat } from 'node:fs/promises';

import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { loadConfigFile, type LoadedConfig } from './load.js';

export interface ConfigWatcherOptions {
  path: string;
  clock: Clock;
  logger: Logger;
  /** The mtime (ms) of the file the initial config came from. */
  loadedMtimeMs: number;
  intervalMs?: number;
  /** Called with each newly accepted config. */
  onLoaded(loaded: LoadedConfig): void;
  /** Called when a changed file was rejected. */
  onRejected?(err: unknown): void;
}

export interface ConfigWatcher {
  /** Checks the file now; `force` re-reads even when the mtime did not change. Resolves true when swapped. */
  reload(force?: boolean): Promise<boolean>;
  /** Starts the polling loop; resolves when `stop()` is called. */
  start(): Promise<void>;
  stop(): void;
}

export async function fileMtimeMs(path: string): Promise<number> {
  return (await stat(path)).mtimeMs;
}

export function createConfigWatcher(options: ConfigWatcherOptions): ConfigWatcher {
  const { path, clock, logger } = options;
  const intervalMs = options.intervalMs ?? 3000;
  const controller = new AbortController();
  let seenMtime = options.loadedMtimeMs;
  let running: Promise<void> | undefined;

  async function reload(force = false): Promise<boolean> {
    let mtime: number;
    try {
      mtime = await fileMtimeMs(path);
    } catch (err) {
      logger.warn({ path, err: errorMessage(err) }, 'config file cannot be read; keeping the current config');
      return false;
    }
    if (!force && mtime === seenMtime) return false;
    seenMtime = mtime;
    try {
      const loaded = await loadConfigFile(path);
      for (const w of loaded.warnings) logger.warn({ key: w.path, reason: w.message }, 'config warning');
      options.onLoaded(loaded);
      logger.info({ path }, 'config reloaded');
      return true;
    } catch (err) {
      logger.warn({ path, errors: errorMessage(err) }, 'config reload rejected');
      options.onRejected?.(err);
      return false;
    }
  }

  async function loop(): Promise<void> {
    while (!controller.signal.aborted) {
      try {
        await clock.sleep(intervalMs, controller.signal);
      } catch {
        return;
      }
      await reload();
    }
  }

  return {
    reload,
    start() {
      running ??= loop();
      return running;
    },
    stop() {
      controller.abort();
    },
  };
}
