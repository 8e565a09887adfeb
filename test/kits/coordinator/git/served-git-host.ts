/**
 * A test file's git host served over HTTP: before all its tests, a host over a new temporary folder
 * behind `startGitServer`; after all, the server closed and the folder removed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { silentLogger } from '../../../../src/shared/logger.js';
import { createGitHost } from '../../../../src/coordinator/git/create-git-host.js';
import type { GitHost } from '../../../../src/coordinator/git/git-host.js';
import { makeTempDir, removeDir, startGitServer, type TestGitServer } from './git-test-kit.js';

export interface ServedGitHost {
  /** The temporary folder (also the git CLI's home). */
  readonly tmp: string;
  /** The host's repositories, `<tmp>/repos`. */
  readonly root: string;
  readonly host: GitHost;
  readonly server: TestGitServer;
}

/** Registers the hooks; the fields may be read from `beforeAll` on. */
export function useServedGitHost(
  prefix: string,
  options: Parameters<typeof startGitServer>[1],
): ServedGitHost {
  let started: ServedGitHost | undefined;
  const get = (): ServedGitHost => {
    if (!started) throw new Error('the served git host is read before its beforeAll ran');
    return started;
  };
  beforeAll(async () => {
    const tmp = await makeTempDir(prefix);
    const root = join(tmp, 'repos');
    const host = createGitHost({ root, logger: silentLogger() });
    started = { tmp, root, host, server: await startGitServer(host, options) };
  });
  afterAll(async () => {
    await started?.server.close();
    if (started) await removeDir(started.tmp);
  });
  return {
    get tmp() {
      return get().tmp;
    },
    get root() {
      return get().root;
    },
    get host() {
      return get().host;
    },
    get server() {
      return get().server;
    },
  };
}
